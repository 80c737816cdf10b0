package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
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
	Attempts   int   // transactions tried (each a read and a write round trip, but one built on known values)
	Revision   int64 // the etcd revision of the write
	RoundTrips int
}

// Apply reads every key of the plan, builds the new values, and writes them in
// one transaction guarded by each key's mod_revision. When another writer
// changed a key in between, it reads again and retries, so a concurrent
// update is never lost. maxOps bounds the transaction (etcd's --max-txn-ops).
func Apply(ctx context.Context, cli *clientv3.Client, p Plan, maxOps int) (Result, error) {
	return ApplyKnown(ctx, cli, p, maxOps, nil)
}

// ApplyKnown is Apply for a writer that remembers, in known, the keys it last
// read or wrote on cli: when known holds every key of the plan, the first
// attempt builds on those values without reading them (one round trip
// instead of two). The transaction's guard on each mod_revision is the same,
// so when another writer changed a key meanwhile it fails, and Apply reads
// and retries as usual. A nil known is Apply.
func ApplyKnown(ctx context.Context, cli *clientv3.Client, p Plan, maxOps int, known *Known) (Result, error) {
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
	fromKnown := known != nil && len(p.DeletePrefixes) == 0 && known.hasAll(keys)
	staleKnown := false // the last attempt failed on remembered values only
	for res.Attempts < attempts {
		if res.Attempts > 0 && !staleKnown {
			// Lost a race: step back a little, more each time, so writers spread out.
			backoff := time.Duration(rand.Int64N(int64(time.Millisecond) << min(res.Attempts, 6)))
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(backoff):
			}
		}
		staleKnown = false
		res.Attempts++
		var cur map[string]current
		if fromKnown {
			cur = known.values(keys)
		} else {
			var err error
			cur, err = readKeys(ctx, cli, keys, maxOps)
			res.RoundTrips++
			if err != nil {
				return res, err
			}
		}
		var wrote map[string][]byte // key → value written (nil: deleted or absent)
		cmps := make([]clientv3.Cmp, 0, len(keys))
		ops := make([]clientv3.Op, 0, len(keys))
		var refused error
		for _, put := range p.Puts {
			kv := cur[put.Key]
			var old []byte
			if kv.exists {
				if put.MayReplace == nil || !put.MayReplace(kv.value) {
					refused = fmt.Errorf("%w: %s", ErrKeyTaken, put.Key)
					break
				}
				old = kv.value
			}
			val, err := put.Build(old)
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(put.Key), "=", kv.modRev))
			if errors.Is(err, ErrSkip) {
				continue
			}
			if err != nil {
				refused = err
				break
			}
			switch {
			case val != nil:
				ops = append(ops, clientv3.OpPut(put.Key, string(val)))
			case kv.exists:
				ops = append(ops, clientv3.OpDelete(put.Key))
			}
			if known != nil {
				if wrote == nil {
					wrote = map[string][]byte{}
				}
				wrote[put.Key] = val
			}
		}
		if refused != nil && fromKnown {
			// Refused on remembered values: decide on what etcd holds.
			known.forget(keys)
			fromKnown, staleKnown = false, true
			continue
		}
		if refused != nil {
			return res, refused
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
			known.forget(keys)
			return res, err
		}
		if resp.Succeeded {
			res.Revision = resp.Header.Revision
			known.learn(p, cur, wrote, resp.Header.Revision)
			return res, nil
		}
		if fromKnown {
			// Another writer changed a key since: read them, at once.
			known.forget(keys)
			fromKnown, staleKnown = false, true
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

// Known remembers the values of keys one writer last read or wrote, with
// their mod_revision, for ApplyKnown; bounded in keys and bytes (a value
// larger than an eighth of the bound is not kept). Not safe for concurrent
// use.
type Known struct {
	maxKeys, maxBytes, bytes int
	kv                       map[string]current
}

// NewKnown remembers at most maxKeys keys and maxBytes bytes of values.
func NewKnown(maxKeys, maxBytes int) *Known {
	return &Known{maxKeys: maxKeys, maxBytes: maxBytes, kv: map[string]current{}}
}

func (k *Known) hasAll(keys []string) bool {
	for _, key := range keys {
		if _, ok := k.kv[key]; !ok {
			return false
		}
	}
	return len(keys) > 0
}

func (k *Known) values(keys []string) map[string]current {
	out := make(map[string]current, len(keys))
	for _, key := range keys {
		out[key] = k.kv[key]
	}
	return out
}

func (k *Known) forget(keys []string) {
	if k == nil {
		return
	}
	for _, key := range keys {
		if kv, ok := k.kv[key]; ok {
			k.bytes -= len(kv.value)
			delete(k.kv, key)
		}
	}
}

// learn records what a successful transaction of p left: the keys it wrote
// at rev, the others as they were read. Keys under a deleted prefix are
// forgotten.
func (k *Known) learn(p Plan, cur map[string]current, wrote map[string][]byte, rev int64) {
	if k == nil {
		return
	}
	for _, prefix := range p.DeletePrefixes {
		for key, kv := range k.kv {
			if strings.HasPrefix(key, prefix) {
				k.bytes -= len(kv.value)
				delete(k.kv, key)
			}
		}
	}
	deleted := map[string]bool{}
	for _, key := range p.Deletes {
		deleted[key] = true
	}
	for key, was := range cur {
		now := was
		if deleted[key] {
			now = current{}
		} else if val, ok := wrote[key]; ok && (val != nil || was.exists) {
			now = current{exists: val != nil, value: val, modRev: 0}
			if val != nil {
				now.modRev = rev
			}
		}
		k.forget([]string{key})
		if len(now.value) > k.maxBytes/8 {
			continue
		}
		for len(k.kv) >= k.maxKeys || k.bytes+len(now.value) > k.maxBytes {
			for other := range k.kv { // evict any one
				k.forget([]string{other})
				break
			}
		}
		k.kv[key] = now
		k.bytes += len(now.value)
	}
}
