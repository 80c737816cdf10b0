// Package leader runs work on one control plane replica at a time, elected
// through etcd (client/v3/concurrency): the outbox worker and the
// reconciler must never race each other across replicas.
package leader

import (
	"context"
	"log/slog"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultTTL is how long a dead leader keeps the lead, in seconds.
const DefaultTTL = 10

// Run campaigns for name until ctx ends. While this replica leads, lead runs
// with a context that ends when leadership is lost (the session's lease
// expired, etcd unreachable) or ctx ends; then Run campaigns again.
func Run(ctx context.Context, cli *clientv3.Client, name string, ttl int, log *slog.Logger, lead func(ctx context.Context)) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	host, _ := os.Hostname()
	id := host + "/" + time.Now().UTC().Format(time.RFC3339Nano)
	for ctx.Err() == nil {
		if err := term(ctx, cli, name, id, ttl, log, lead); err != nil && ctx.Err() == nil {
			log.Warn("leader: election failed, retrying", "name", name, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// term is one session: campaign, lead until the session ends, resign.
func term(ctx context.Context, cli *clientv3.Client, name, id string, ttl int, log *slog.Logger, lead func(ctx context.Context)) error {
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	e := concurrency.NewElection(sess, name)
	if err := e.Campaign(ctx, id); err != nil {
		return err
	}
	log.Info("leader: this replica leads", "name", name, "id", id)
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	select {
	case <-sess.Done():
		log.Warn("leader: lost the lead", "name", name)
	case <-ctx.Done():
	case <-done:
	}
	cancel()
	<-done
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer rcancel()
	_ = e.Resign(rctx)
	return nil
}
