package benchseed

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
)

// Writer changes the data set Seed wrote at fixed rates, with the writes
// the control core makes:
//
//   - routes: a subscription approved or revoked (a consumer put on or
//     taken off a route's whitelist; every BigEvery-th change on a big
//     route, whose value holds every consumer), or a route's rate limit
//     changed (limit-count count);
//   - consumers: a credential added (a new encrypted key), the oldest added
//     one deleted, and every fifth change the consumer itself rewritten.
//
// Only names outside Member are taken off whitelists, and only credentials
// the writer added are deleted.
type Writer struct {
	Cli *clientv3.Client
	Cfg Config
	// RouteRate and ConsumerRate are changes per second (0: none).
	RouteRate, ConsumerRate float64
	// BigEvery makes every n-th route change one on a big route (0: never).
	BigEvery int
	// Seed makes the sequence of changes repeatable.
	Seed uint64

	mu     sync.Mutex
	rng    *rand.Rand
	routes map[int]*route // routes changed so far, as last written
	extra  map[int][]string
	creds  []credRef
	seq    int // consumer changes made
	rseq   int // route changes made

	routeN, bigN, consumerN, errN, bytesN atomic.Int64
}

type credRef struct {
	user int
	id   string
}

// Stats counts what a Writer did.
type Stats struct {
	RouteChanges    int64 `json:"route_changes"`
	BigRouteChanges int64 `json:"big_route_changes"`
	ConsumerChanges int64 `json:"consumer_changes"`
	Errors          int64 `json:"errors"`
	Bytes           int64 `json:"bytes"`
}

// Changes is every change applied.
func (s Stats) Changes() int64 { return s.RouteChanges + s.ConsumerChanges }

// Stats is what the writer did so far.
func (w *Writer) Stats() Stats {
	return Stats{RouteChanges: w.routeN.Load(), BigRouteChanges: w.bigN.Load(), ConsumerChanges: w.consumerN.Load(),
		Errors: w.errN.Load(), Bytes: w.bytesN.Load()}
}

func (w *Writer) init() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rng == nil {
		w.rng = rand.New(rand.NewPCG(w.Seed, 0x5eed))
		w.routes = map[int]*route{}
		w.extra = map[int][]string{}
	}
}

// Run writes changes until ctx ends.
func (w *Writer) Run(ctx context.Context) {
	w.init()
	var wg sync.WaitGroup
	tick := func(rate float64, step func(context.Context) error) {
		if rate <= 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := step(ctx); err != nil && ctx.Err() == nil {
						w.errN.Add(1)
					}
				}
			}
		}()
	}
	tick(w.RouteRate, w.RouteChange)
	tick(w.ConsumerRate, w.ConsumerChange)
	wg.Wait()
}

// RouteChange makes one route change.
func (w *Writer) RouteChange(ctx context.Context) error {
	w.init()
	w.mu.Lock()
	n := w.rseq
	w.rseq++
	c := w.Cfg
	var i int
	big := w.BigEvery > 0 && c.BigRoutes > 0 && n%w.BigEvery == 0
	if big {
		i = w.rng.IntN(c.BigRoutes)
	} else if c.Routes > c.BigRoutes {
		i = c.BigRoutes + w.rng.IntN(c.Routes-c.BigRoutes)
	} else {
		w.mu.Unlock()
		return nil
	}
	r := w.routes[i]
	if r == nil {
		var err error
		if r, err = w.current(ctx, i); err != nil {
			w.mu.Unlock()
			return err
		}
		w.routes[i] = r
	}
	switch {
	case big:
		w.toggleReserved(i, r)
	case n%2 == 0:
		w.toggleExtra(i, r)
	default:
		if r.count == 1000000 {
			r.count++
		} else {
			r.count = 1000000
		}
	}
	r.UpdateTime = time.Now().Unix()
	v, err := r.encode()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := w.Cli.Put(ctx, apisix.Key(c.Prefix, apisix.KindRoutes, RouteID(i)), string(v)); err != nil {
		return fmt.Errorf("benchseed: route %d: %w", i, err)
	}
	w.routeN.Add(1)
	if big {
		w.bigN.Add(1)
	}
	w.bytesN.Add(int64(len(v)))
	return nil
}

// current is route i as etcd holds it, and the names the writer may put
// back on its whitelist: a writer of a later window goes on from what an
// earlier one left. Starting from the seeded order instead would make its
// first write to a big route move every name an earlier writer had moved
// to the end, a change no subscription makes.
func (w *Writer) current(ctx context.Context, i int) (*route, error) {
	c := w.Cfg
	r := c.route(i)
	resp, err := w.Cli.Get(ctx, apisix.Key(c.Prefix, apisix.KindRoutes, RouteID(i)))
	if err != nil {
		return nil, fmt.Errorf("benchseed: route %d: %w", i, err)
	}
	if len(resp.Kvs) == 0 {
		return r, nil // not seeded (yet): the writer writes it
	}
	var stored apisix.Route
	var cr struct {
		Whitelist []string `json:"whitelist"`
	}
	var lc struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &stored); err != nil {
		return nil, fmt.Errorf("benchseed: route %d: %w", i, err)
	}
	if err := json.Unmarshal(stored.Plugins["consumer-restriction"], &cr); err != nil {
		return nil, fmt.Errorf("benchseed: route %d: %w", i, err)
	}
	if err := json.Unmarshal(stored.Plugins["limit-count"], &lc); err != nil {
		return nil, fmt.Errorf("benchseed: route %d: %w", i, err)
	}
	stored.Plugins = nil
	r.Route, r.list, r.count = stored, cr.Whitelist, lc.Count
	listed := make(map[string]bool, len(r.list))
	for _, n := range r.list {
		listed[n] = true
	}
	var extra []string
	if c.Big(i) {
		// Reserved consumers an earlier writer took off, to put back.
		for u := 0; u < Reserved; u++ {
			if !listed[ConsumerName(u)] {
				extra = append(extra, ConsumerName(u))
			}
		}
	} else {
		// Names an earlier writer added, to take off.
		members := map[string]bool{}
		for j := 0; j < c.Members(i); j++ {
			members[ConsumerName(c.Member(i, j))] = true
		}
		for _, n := range r.list {
			if !members[n] {
				extra = append(extra, n)
			}
		}
	}
	w.extra[i] = extra
	return r, nil
}

// toggleReserved takes a reserved consumer off a big route's whitelist, or
// puts the one taken off back (at the end, as gateway's OpWhitelistAdd does).
func (w *Writer) toggleReserved(i int, r *route) {
	if ex := w.extra[i]; len(ex) > 0 {
		r.list = append(r.list, ex[0])
		w.extra[i] = ex[1:]
		return
	}
	name := ConsumerName(w.rng.IntN(Reserved))
	r.list = slices.DeleteFunc(r.list, func(s string) bool { return s == name })
	w.extra[i] = append(w.extra[i], name)
}

// toggleExtra adds a consumer outside Member to a small route's whitelist,
// or removes the one added.
func (w *Writer) toggleExtra(i int, r *route) {
	if ex := w.extra[i]; len(ex) > 0 {
		r.list = slices.DeleteFunc(r.list, func(s string) bool { return s == ex[0] })
		w.extra[i] = ex[1:]
		return
	}
	for {
		name := ConsumerName(w.rng.IntN(w.Cfg.Consumers))
		if !slices.Contains(r.list, name) {
			r.list = append(r.list, name)
			w.extra[i] = append(w.extra[i], name)
			return
		}
	}
}

// ConsumerChange makes one consumer change.
func (w *Writer) ConsumerChange(ctx context.Context) error {
	w.init()
	w.mu.Lock()
	c := w.Cfg
	w.seq++
	seq := w.seq
	var op clientv3.Op
	var size int
	switch {
	case seq%5 == 0:
		u := w.rng.IntN(c.Consumers)
		v, err := consumer(u)
		if err != nil {
			w.mu.Unlock()
			return err
		}
		op, size = clientv3.OpPut(apisix.Key(c.Prefix, apisix.KindConsumers, ConsumerName(u)), string(v)), len(v)
	case len(w.creds) < 16 || seq%2 == 0:
		ref := credRef{user: w.rng.IntN(c.Consumers), id: "c" + strconv.Itoa(seq)}
		v, err := credential(c.keyring(), ref.user, ref.id, "churn-"+strconv.Itoa(seq))
		if err != nil {
			w.mu.Unlock()
			return err
		}
		w.creds = append(w.creds, ref)
		op, size = clientv3.OpPut(apisix.CredentialKey(c.Prefix, ConsumerName(ref.user), ref.id), string(v)), len(v)
	default:
		ref := w.creds[0]
		w.creds = w.creds[1:]
		op = clientv3.OpDelete(apisix.CredentialKey(c.Prefix, ConsumerName(ref.user), ref.id))
	}
	w.mu.Unlock()
	if _, err := w.Cli.Do(ctx, op); err != nil {
		return fmt.Errorf("benchseed: consumer change: %w", err)
	}
	w.consumerN.Add(1)
	w.bytesN.Add(int64(size))
	return nil
}
