// Package heartbeat registers a data plane node in etcd under
// P/data_plane/server_info/<node id> with a lease kept alive, so the control
// plane lists the node online while it runs and offline soon after it stops.
// After an etcd outage that outlives the lease it registers again.
package heartbeat

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
)

// Heartbeat keeps one node's registration.
type Heartbeat struct {
	cli  *clientv3.Client
	key  string
	info apisix.ServerInfo
	ttl  int64
	log  *slog.Logger

	mu    sync.Mutex
	lease clientv3.LeaseID
}

// New makes a heartbeat for info under prefix with a lease of ttl.
func New(cli *clientv3.Client, prefix string, info apisix.ServerInfo, ttl time.Duration, log *slog.Logger) *Heartbeat {
	secs := int64(ttl / time.Second)
	if secs < 2 {
		secs = 2
	}
	return &Heartbeat{cli: cli, key: apisix.Key(prefix, apisix.KindServerInfo, info.ID), info: info, ttl: secs, log: log}
}

// Key is the registration key.
func (h *Heartbeat) Key() string { return h.key }

// Register grants a lease and writes the node's info under it once.
func (h *Heartbeat) Register(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lease, err := h.cli.Grant(ctx2, h.ttl)
	if err != nil {
		return nil, err
	}
	info := h.info
	info.LastReportTime = time.Now().Unix()
	if st, err := h.cli.Status(ctx2, h.cli.Endpoints()[0]); err == nil {
		info.EtcdVersion = st.Version
	}
	b, _ := json.Marshal(info)
	if _, err := h.cli.Put(ctx2, h.key, string(b), clientv3.WithLease(lease.ID)); err != nil {
		return nil, err
	}
	ch, err := h.cli.KeepAlive(ctx, lease.ID)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.lease = lease.ID
	h.mu.Unlock()
	return ch, nil
}

// Run keeps the node registered until ctx ends.
func (h *Heartbeat) Run(ctx context.Context) {
	delay := 500 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := h.Register(ctx)
		if err != nil {
			h.log.Warn("heartbeat: register failed", "key", h.key, "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if delay *= 2; delay > 5*time.Second {
				delay = 5 * time.Second
			}
			continue
		}
		delay = 500 * time.Millisecond
		h.log.Info("heartbeat: registered", "key", h.key)
		for range ch {
		}
		if ctx.Err() == nil {
			h.log.Warn("heartbeat: lease lost; registering again", "key", h.key)
		}
	}
}

// Revoke removes the registration at once (on a graceful stop).
func (h *Heartbeat) Revoke(ctx context.Context) error {
	h.mu.Lock()
	id := h.lease
	h.mu.Unlock()
	if id == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := h.cli.Revoke(ctx, id)
	return err
}
