package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Sentinel errors of a plan.
var (
	// ErrKeyTaken: a key the plan creates exists already and is not the plan's own.
	ErrKeyTaken = errors.New("etcdstore: key exists")
	// ErrTooManyOps: the plan needs more operations than one transaction may hold.
	ErrTooManyOps = errors.New("etcdstore: too many operations for one transaction")
	// ErrContended: the keys kept changing under every attempt.
	ErrContended = errors.New("etcdstore: keys kept changing, gave up")
	// ErrSkip, returned by a Build, leaves that key as it is; the rest of the
	// plan still lands (a queued sync meeting a key another service took).
	ErrSkip = errors.New("etcdstore: key left as it is")
)

// Put writes one key. Build gets the key's current value (nil when absent)
// so a write can keep what others own in it (a whitelist, create_time); when
// Build returns nil the key is deleted (or left absent).
type Put struct {
	Key string
	// MayReplace says whether an existing value belongs to the writer; when it
	// is nil or answers false, the Put refuses to overwrite it (ErrKeyTaken).
	MayReplace func(current []byte) bool
	Build      func(current []byte) ([]byte, error)
}

// Plan is a set of writes that must land together or not at all.
type Plan struct {
	Puts    []Put
	Deletes []string
	// DeletePrefixes removes whole directories (a consumer's credentials).
	// They must not overlap the plan's other keys: etcd refuses such a txn.
	DeletePrefixes []string
}

// Ops is how many operations the plan's transaction holds at most.
func (p Plan) Ops() int { return len(p.Puts) + len(p.Deletes) + len(p.DeletePrefixes) }

// Result tells what applying cost.
type Result struct {
	Attempts   int   // transactions tried (each is a read and a write round trip)
	Revision   int64 // the etcd revision of the write
	RoundTrips int
}

// Apply reads every key of the plan, builds the new values, and writes them in
// one transaction guarded by each key's mod_revision. When another writer
// changed a key in between, it reads again and retries, so a concurrent
// update is never lost. maxOps bounds the transaction (etcd's --max-txn-ops).
func Apply(ctx context.Context, cli *clientv3.Client, p Plan, maxOps int) (Result, error) {
	var res Result
	keys := make([]string, 0, p.Ops())
	for _, put := range p.Puts {
		keys = append(keys, put.Key)
	}
	keys = append(keys, p.Deletes...)
	if len(keys) == 0 && len(p.DeletePrefixes) == 0 {
		return res, nil
	}
	if maxOps > 0 && p.Ops() > maxOps {
		return res, fmt.Errorf("%w: %d operations, the limit is %d", ErrTooManyOps, p.Ops(), maxOps)
	}
	const attempts = 64
	for res.Attempts < attempts {
		if res.Attempts > 0 {
			// Lost a race: step back a little, more each time, so writers spread out.
			backoff := time.Duration(rand.Int64N(int64(time.Millisecond) << min(res.Attempts, 6)))
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(backoff):
			}
		}
		res.Attempts++
		cur, err := readKeys(ctx, cli, keys, maxOps)
		res.RoundTrips++
		if err != nil {
			return res, err
		}
		cmps := make([]clientv3.Cmp, 0, len(keys))
		ops := make([]clientv3.Op, 0, len(keys))
		for _, put := range p.Puts {
			kv := cur[put.Key]
			var old []byte
			if kv.exists {
				if put.MayReplace == nil || !put.MayReplace(kv.value) {
					return res, fmt.Errorf("%w: %s", ErrKeyTaken, put.Key)
				}
				old = kv.value
			}
			val, err := put.Build(old)
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(put.Key), "=", kv.modRev))
			if errors.Is(err, ErrSkip) {
				continue
			}
			if err != nil {
				return res, err
			}
			switch {
			case val != nil:
				ops = append(ops, clientv3.OpPut(put.Key, string(val)))
			case kv.exists:
				ops = append(ops, clientv3.OpDelete(put.Key))
			}
		}
		for _, k := range p.Deletes {
			kv := cur[k]
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", kv.modRev))
			if kv.exists {
				ops = append(ops, clientv3.OpDelete(k))
			}
		}
		for _, prefix := range p.DeletePrefixes {
			ops = append(ops, clientv3.OpDelete(prefix, clientv3.WithPrefix()))
		}
		resp, err := cli.Txn(clientv3.WithRequireLeader(ctx)).If(cmps...).Then(ops...).Commit()
		res.RoundTrips++
		if err != nil {
			return res, err
		}
		if resp.Succeeded {
			res.Revision = resp.Header.Revision
			return res, nil
		}
	}
	return res, ErrContended
}

type current struct {
	exists bool
	value  []byte
	modRev int64
}

// readKeys gets many keys in as few round trips as the op limit allows.
func readKeys(ctx context.Context, cli *clientv3.Client, keys []string, maxOps int) (map[string]current, error) {
	if maxOps <= 0 {
		maxOps = len(keys)
	}
	out := make(map[string]current, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	for start := 0; start < len(keys); start += maxOps {
		end := min(start+maxOps, len(keys))
		ops := make([]clientv3.Op, 0, end-start)
		for _, k := range keys[start:end] {
			ops = append(ops, clientv3.OpGet(k))
		}
		resp, err := cli.Txn(clientv3.WithRequireLeader(ctx)).Then(ops...).Commit()
		if err != nil {
			return nil, err
		}
		for i, r := range resp.Responses {
			k := keys[start+i]
			rr := r.GetResponseRange()
			if rr != nil && len(rr.Kvs) == 1 {
				out[k] = current{exists: true, value: rr.Kvs[0].Value, modRev: rr.Kvs[0].ModRevision}
			} else {
				out[k] = current{}
			}
		}
	}
	return out, nil
}
