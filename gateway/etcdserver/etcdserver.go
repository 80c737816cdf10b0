// Package etcdserver runs an embedded etcd member: the one-binary default of
// `make run`, and the real etcd every test starts.
package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config says where the embedded member keeps its data and where it listens.
type Config struct {
	// Dir holds the member's WAL and snapshots (for `make run`: ./data/etcd).
	Dir string
	// ClientURL is where clients connect, e.g. http://127.0.0.1:2379.
	ClientURL string
	// PeerURL is the raft peer address; only this member uses it.
	PeerURL string
	// MaxTxnOps is the most operations one transaction may hold. A publish is one
	// transaction, so the embedded default is generous (etcd's own default is 128).
	MaxTxnOps uint
	// LogLevel of etcd's own zap logger; "error" keeps `make run` quiet.
	LogLevel string
	// UnsafeNoFsync trades durability for speed; for tests only.
	UnsafeNoFsync bool
}

// DefaultMaxTxnOps is the limit the embedded member runs with.
const DefaultMaxTxnOps = 4096

// MaxRequestBytes is the largest request the embedded member takes; an
// external cluster needs the same --max-request-bytes for large whitelists.
const MaxRequestBytes = 32 << 20

// Server is a running embedded etcd member.
type Server struct {
	etcd    *embed.Etcd
	cfg     Config
	closing *atomic.Bool
}

// Start starts the member and waits until it serves clients or ctx ends.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("etcdserver: data dir is required")
	}
	if cfg.ClientURL == "" {
		cfg.ClientURL = "http://127.0.0.1:2379"
	}
	if cfg.PeerURL == "" {
		cfg.PeerURL = "http://127.0.0.1:2380"
	}
	if cfg.MaxTxnOps == 0 {
		cfg.MaxTxnOps = DefaultMaxTxnOps
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "error"
	}
	cu, err := url.Parse(cfg.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: client url: %w", err)
	}
	pu, err := url.Parse(cfg.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: peer url: %w", err)
	}
	ec := embed.NewConfig()
	ec.Name = "devportal"
	ec.Dir = cfg.Dir
	ec.ListenClientUrls = []url.URL{*cu}
	ec.AdvertiseClientUrls = []url.URL{*cu}
	ec.ListenPeerUrls = []url.URL{*pu}
	ec.AdvertisePeerUrls = []url.URL{*pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.MaxTxnOps = cfg.MaxTxnOps
	// A route's whitelist of 100,000 consumers is a value of a few MiB;
	// etcd's default request limit is 1.5 MiB.
	ec.MaxRequestBytes = MaxRequestBytes
	ec.LogLevel = cfg.LogLevel
	closing := &atomic.Bool{}
	lg, err := quietLogger(cfg.LogLevel, closing)
	if err != nil {
		return nil, err
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	// Keep history bounded: the data plane re-lists on compaction.
	ec.AutoCompactionMode = "periodic"
	ec.AutoCompactionRetention = "1h"

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: start: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcdserver: %w", err)
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, errors.New("etcdserver: not ready after 60s")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &Server{etcd: e, cfg: cfg, closing: closing}, nil
}

// quietLogger is etcd's JSON logger on stderr at level, silenced once Close
// starts: etcd reports its own listeners closing as errors.
func quietLogger(level string, closing *atomic.Bool) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("etcdserver: log level: %w", err)
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	core := zapcore.NewCore(enc, zapcore.Lock(os.Stderr), lvl)
	return zap.New(&silencedCore{Core: core, off: closing}), nil
}

type silencedCore struct {
	zapcore.Core
	off *atomic.Bool
}

func (c *silencedCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.off.Load() {
		return ce
	}
	return c.Core.Check(e, ce)
}

func (c *silencedCore) With(f []zapcore.Field) zapcore.Core {
	return &silencedCore{Core: c.Core.With(f), off: c.off}
}

// Endpoints are the client URLs to dial.
func (s *Server) Endpoints() []string { return []string{s.cfg.ClientURL} }

// Err reports a fatal error of the running member.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Close stops the member, flushing its data to disk.
func (s *Server) Close() {
	s.closing.Store(true)
	s.etcd.Close()
}
