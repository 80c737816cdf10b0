// Package dataplane is a data plane node: it reads one gateway group's
// APISIX configuration from etcd and serves traffic as APISIX would for it.
// It imports no control core or database code, only the shared APISIX
// schema (devportal/gateway/apisix) and libraries.
package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/heartbeat"
	"devportal/gateway/dataplane/metrics"
	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/proxy"
	"devportal/gateway/dataplane/stream"
)

// Version is reported in the heartbeat and metrics.
const Version = "devportal-dataplane/0.1"

// Config configures a node. Every field but Endpoints has a default.
type Config struct {
	// Endpoints are the etcd endpoints, e.g. http://127.0.0.1:2379.
	Endpoints []string
	// Prefix is the gateway group's prefix; default "/apisix".
	Prefix string
	// Listen is the HTTP listen address, e.g. ":9080"; default ":9080".
	Listen string
	// MetricsListen is the Prometheus listener (/metrics, and APISIX's status
	// API /status and /status/ready); "" disables it.
	MetricsListen string
	// Keyring is APISIX's data_encryption keyring; nil means
	// apisix.DefaultKeyring, an empty non-nil list means keys are stored in clear.
	Keyring []string
	// NodeID identifies the node in its heartbeat; "" generates one.
	NodeID string
	// AccessLog writes one structured log line per request.
	AccessLog bool
	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger

	// StreamListenHost is the host stream route ports bind on; "" means
	// all interfaces (tests use 127.0.0.1).
	StreamListenHost string
	// HeartbeatTTL is the heartbeat lease's TTL; default 10s.
	HeartbeatTTL time.Duration
	// StartTimeout bounds how long Start waits for the first full load;
	// default 30s.
	StartTimeout time.Duration
	// ShutdownTimeout bounds how long Close waits for in-flight requests;
	// default 30s.
	ShutdownTimeout time.Duration
	// Pprof serves Go's /debug/pprof/ on the metrics listener.
	Pprof bool
	// EtcdUsername and EtcdPassword authenticate to etcd when set.
	EtcdUsername, EtcdPassword string
}

// Node is a running data plane node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	cli     *clientv3.Client
	store   *config.Store
	proxy   *proxy.Proxy
	metrics *metrics.Metrics
	streams *stream.Manager
	hb      *heartbeat.Heartbeat

	ln      net.Listener
	mserver *http.Server
	mln     net.Listener

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// ErrConfig says a Config is not usable.
var ErrConfig = errors.New("dataplane: bad config")

// New checks cfg and prepares a node; Start runs it.
func New(cfg Config) (*Node, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: no etcd endpoints", ErrConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/apisix"
	}
	if cfg.Listen == "" {
		cfg.Listen = ":9080"
	}
	if cfg.Keyring == nil {
		cfg.Keyring = apisix.DefaultKeyring
	}
	if cfg.HeartbeatTTL == 0 {
		cfg.HeartbeatTTL = 10 * time.Second
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.NodeID == "" {
		b := make([]byte, 8)
		rand.Read(b)
		cfg.NodeID = hex.EncodeToString(b)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "dataplane", "node", cfg.NodeID)
	keyring, err := apisix.NewKeyring(cfg.Keyring)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: cfg.Endpoints, DialTimeout: 5 * time.Second,
		DialKeepAliveTime: 10 * time.Second, DialKeepAliveTimeout: 5 * time.Second,
		Username: cfg.EtcdUsername, Password: cfg.EtcdPassword,
		// The node logs etcd trouble itself (slog); the client's own zap
		// warnings would repeat them on every retry.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("dataplane: etcd client: %w", err)
	}
	n := &Node{cfg: cfg, log: log, cli: cli}
	n.store = config.NewStore(cli, cfg.Prefix, keyring, log)
	if cfg.MetricsListen != "" {
		n.metrics = metrics.New(cfg.NodeID)
	}
	opts := proxy.Options{Snapshot: n.store.Current, Logger: log, AccessLog: cfg.AccessLog}
	if n.metrics != nil {
		opts.Observer = n.metrics
	}
	n.proxy = proxy.New(opts)
	n.streams = stream.New(cfg.StreamListenHost, log)
	return n, nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Snapshot is the configuration the node serves now.
func (n *Node) Snapshot() *config.Snapshot { return n.store.Current() }

// Start loads the configuration, starts the listeners and background work
// and returns; the node serves until ctx ends or Close. After a failed Start,
// Close still releases the etcd client.
func (n *Node) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("dataplane: listen %s: %w", n.cfg.Listen, err)
	}
	n.ln = ln
	if n.metrics != nil {
		mln, err := net.Listen("tcp", n.cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("dataplane: metrics listen %s: %w", n.cfg.MetricsListen, err)
		}
		n.mln = mln
	}
	if err := n.firstLoad(ctx); err != nil {
		n.ln.Close()
		if n.mln != nil {
			n.mln.Close()
		}
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.store.OnChange(n.streams.Update)
	n.store.OnChange(n.recordCounts)
	n.streams.Update(n.store.Current())
	n.recordCounts(n.store.Current())

	hostname, _ := os.Hostname()
	n.hb = heartbeat.New(n.cli, n.cfg.Prefix, apisix.ServerInfo{
		ID: n.cfg.NodeID, Hostname: hostname, Version: Version, BootTime: time.Now().Unix(), Address: ln.Addr().String(),
	}, n.cfg.HeartbeatTTL, n.log)
	if n.metrics != nil {
		n.metrics.Info.WithLabelValues(n.cfg.NodeID, hostname, Version).Set(1)
	}

	n.goRun("config watch", func() { n.store.Run(runCtx) })
	n.goRun("heartbeat", func() { n.hb.Run(runCtx) })
	n.goRun("limit-count sweep", func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				plugin.DefaultCounters.Sweep()
			}
		}
	})
	n.goRun("http", func() {
		if err := n.proxy.Serve(ln); err != nil {
			n.log.Error("dataplane: http server", "err", err)
		}
	})
	if n.metrics != nil {
		n.mserver = &http.Server{Handler: n.metrics.Handler(n.cfg.Pprof, func() bool { return n.store.Relists.Load() > 0 }), ReadHeaderTimeout: 5 * time.Second}
		n.goRun("metrics", func() {
			if err := n.mserver.Serve(n.mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("dataplane: metrics server", "err", err)
			}
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			n.Close()
		case <-runCtx.Done():
		}
	}()
	n.log.Info("dataplane: serving", "listen", ln.Addr().String(), "prefix", n.cfg.Prefix, "rev", n.store.Current().Rev)
	return nil
}

func (n *Node) firstLoad(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.StartTimeout)
	defer cancel()
	delay := 200 * time.Millisecond
	for {
		err := n.store.Load(ctx)
		if err == nil {
			return nil
		}
		n.log.Warn("dataplane: first load failed", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("dataplane: first load of %s: %w", n.cfg.Prefix, err)
		case <-time.After(delay):
		}
		if delay *= 2; delay > 3*time.Second {
			delay = 3 * time.Second
		}
	}
}

func (n *Node) recordCounts(s *config.Snapshot) {
	if n.metrics == nil {
		return
	}
	for k, v := range s.Counts() {
		n.metrics.Config.WithLabelValues(k).Set(float64(v))
	}
}

// goRun runs fn in a goroutine that logs a panic instead of crashing.
func (n *Node) goRun(name string, fn func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				n.log.Error("dataplane: panic", "in", name, "panic", r)
			}
		}()
		fn()
	}()
}

// Addr is the bound HTTP address.
func (n *Node) Addr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// MetricsAddr is the bound metrics address, "" when disabled.
func (n *Node) MetricsAddr() string {
	if n.mln == nil {
		return ""
	}
	return n.mln.Addr().String()
}

// Close stops the node gracefully: no new connections, in-flight requests
// finish (up to ShutdownTimeout), the heartbeat key is revoked.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
		defer cancel()
		var errs []error
		if n.ln != nil {
			if err := n.proxy.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		n.streams.Close()
		if n.mserver != nil {
			n.mserver.Shutdown(ctx)
		}
		if n.cancel != nil {
			n.cancel()
		}
		n.wg.Wait()
		if n.hb != nil {
			if err := n.hb.Revoke(ctx); err != nil {
				n.log.Warn("dataplane: revoke heartbeat", "err", err)
			}
		}
		if err := n.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
