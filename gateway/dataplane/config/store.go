package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
)

// Store holds the current snapshot of one prefix and keeps it up to date.
type Store struct {
	cli     *clientv3.Client
	prefix  string // without trailing slash
	keyring *apisix.Keyring
	log     *slog.Logger

	cur atomic.Pointer[Snapshot]

	mu   sync.Mutex
	subs []func(*Snapshot)

	// RetryDelay is the first delay before re-listing after a failure.
	RetryDelay time.Duration
	// Relists counts full loads, for tests and logs.
	Relists atomic.Int64
}

// NewStore makes a store of prefix; Load fills it, Run keeps it current.
func NewStore(cli *clientv3.Client, prefix string, keyring *apisix.Keyring, log *slog.Logger) *Store {
	s := &Store{cli: cli, prefix: strings.TrimRight(prefix, "/"), keyring: keyring, log: log, RetryDelay: 200 * time.Millisecond}
	s.cur.Store(emptySnapshot())
	return s
}

// Current is the snapshot requests use now.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// OnChange registers fn to be called (from the store's goroutine) after
// each new snapshot is published.
func (s *Store) OnChange(fn func(*Snapshot)) {
	s.mu.Lock()
	s.subs = append(s.subs, fn)
	s.mu.Unlock()
}

func (s *Store) publish(snap *Snapshot) {
	s.cur.Store(snap)
	s.mu.Lock()
	subs := append([]func(*Snapshot){}, s.subs...)
	s.mu.Unlock()
	for _, fn := range subs {
		fn(snap)
	}
}

// Load reads the whole prefix and publishes a snapshot built from it.
func (s *Store) Load(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("config: list %s: %w", s.prefix, err)
	}
	events := make([]Event, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		events = append(events, Event{Key: string(kv.Key), Value: kv.Value})
	}
	start := time.Now()
	snap := Apply(emptySnapshot(), events, s.prefix, s.keyring, s.log)
	snap.Rev = resp.Header.Revision
	s.Relists.Add(1)
	s.log.Info("config: loaded", "prefix", s.prefix, "rev", snap.Rev, "keys", len(resp.Kvs), "took", time.Since(start))
	s.publish(snap)
	return nil
}

// Run watches the prefix from the loaded revision until ctx ends. A
// compacted or broken watch makes it list the prefix again; while etcd is
// unreachable the last snapshot keeps serving.
func (s *Store) Run(ctx context.Context) {
	delay := s.RetryDelay
	for ctx.Err() == nil {
		err := s.watch(ctx, s.Current().Rev)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("config: watch ended; listing again", "err", err)
		for ctx.Err() == nil {
			if err := s.Load(ctx); err == nil {
				delay = s.RetryDelay
				break
			} else {
				s.log.Warn("config: list failed; serving the last snapshot", "err", err, "retry_in", delay)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if delay *= 2; delay > 5*time.Second {
				delay = 5 * time.Second
			}
		}
	}
}

var errWatchClosed = errors.New("config: watch channel closed")

func (s *Store) watch(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, s.prefix+"/", clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for resp := range wch {
		if resp.CompactRevision != 0 {
			return fmt.Errorf("config: watch compacted at %d", resp.CompactRevision)
		}
		if err := resp.Err(); err != nil {
			return err
		}
		if resp.Canceled {
			return errors.New("config: watch canceled")
		}
		if len(resp.Events) == 0 {
			continue
		}
		events := make([]Event, 0, len(resp.Events))
		// The snapshot's revision is that of the last change it holds (the
		// header's revision may already count changes not delivered yet).
		var last int64
		for _, ev := range resp.Events {
			last = max(last, ev.Kv.ModRevision)
			e := Event{Key: string(ev.Kv.Key)}
			if ev.Type == clientv3.EventTypeDelete {
				e.Delete = true
			} else {
				e.Value = ev.Kv.Value
			}
			events = append(events, e)
		}
		snap := Apply(s.Current(), events, s.prefix, s.keyring, s.log)
		snap.Rev = last
		s.publish(snap)
	}
	return errWatchClosed
}

// WatchFrom watches from rev+1 and applies what it sees until the watch
// fails or ctx ends; Run uses it, tests call it to check compaction.
func (s *Store) WatchFrom(ctx context.Context, rev int64) error { return s.watch(ctx, rev) }
