// Package etcdstore gives the control core its etcd clients (one per distinct
// endpoint list, since a group may have its own cluster) and the
// compare-and-swap transaction every write goes through.
package etcdstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Clients caches one client per endpoint list.
type Clients struct {
	defaults []string
	mu       sync.Mutex
	clients  map[string]*clientv3.Client
}

// NewClients uses defaults for groups that name no endpoints of their own.
func NewClients(defaults []string) *Clients {
	return &Clients{defaults: defaults, clients: map[string]*clientv3.Client{}}
}

// Defaults are the control plane's own etcd endpoints.
func (c *Clients) Defaults() []string { return c.defaults }

// For returns the client of endpoints (nil or empty: the defaults).
func (c *Clients) For(endpoints []string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		endpoints = c.defaults
	}
	eps := append([]string(nil), endpoints...)
	sort.Strings(eps)
	key := strings.Join(eps, ",")
	c.mu.Lock()
	defer c.mu.Unlock()
	if cli, ok := c.clients[key]; ok {
		return cli, nil
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:        eps,
		DialTimeout:      5 * time.Second,
		AutoSyncInterval: time.Minute,
		// Large whitelists make large route values (see etcdserver.MaxRequestBytes).
		MaxCallSendMsgSize: 32 << 20,
		Logger:             zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcdstore: connect %s: %w", key, err)
	}
	c.clients[key] = cli
	return cli, nil
}

// Ping asks the cluster of endpoints for a key, bounded by a short timeout.
func (c *Clients) Ping(ctx context.Context, endpoints []string) error {
	cli, err := c.For(endpoints)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = cli.Get(clientv3.WithRequireLeader(ctx), "health", clientv3.WithCountOnly())
	return err
}

// Close closes every client.
func (c *Clients) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, cli := range c.clients {
		cli.Close()
		delete(c.clients, k)
	}
}
