// Package gateway is the gateway control core: gateway groups, the Service Hub
// of versioned service templates, publishing to a group's etcd prefix in the
// APISIX 3.x schema, per-group runtime configuration, history and rollback,
// plugin templates and the data plane node list. It knows no HTTP and no portal.
package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"devportal/gateway/etcdstore"
)

// DefaultGroupID is the group that always exists, on prefix /apisix.
const (
	DefaultGroupID     = "default"
	DefaultGroupPrefix = "/apisix"
)

// Service is the control core. It is safe for concurrent use.
type Service struct {
	db        *gorm.DB
	etcd      *etcdstore.Clients
	now       func() time.Time
	log       *slog.Logger
	maxTxnOps int
	// directTimeout bounds a publish's own etcd write before it is queued.
	directTimeout time.Duration
	// settle is how long a reconcile waits to confirm drift (see Reconcile).
	settle time.Duration
	wake   chan struct{} // Notify → RunOutbox
	// applied, when set, sees what each etcd write cost (benchmarks).
	applied func(etcdstore.Result)
	// reports holds each group's last drift report (groupID → Report).
	reports sync.Map
}

// Option configures a Service.
type Option func(*Service)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithMaxTxnOps is the most operations the etcd cluster accepts in one
// transaction (its --max-txn-ops; etcd's default is 128). A publish that needs
// more is refused with a clear error instead of being split, which would
// leave a mixed version live.
func WithMaxTxnOps(n int) Option { return func(s *Service) { s.maxTxnOps = n } }

// WithDirectTimeout is how long a publish waits for the group's etcd before
// it records the change in the outbox instead (default 3s).
func WithDirectTimeout(d time.Duration) Option { return func(s *Service) { s.directTimeout = d } }

// WithReconcileSettle is how long a reconcile waits before confirming the
// drift it found (default 500ms; 0 repairs at once, for single-writer tests).
func WithReconcileSettle(d time.Duration) Option { return func(s *Service) { s.settle = d } }

// defaultSettle outlasts the gap between a publish's etcd write and its
// database commit, and between a commit and the outbox's write.
const defaultSettle = 500 * time.Millisecond

// New builds the control core on a migrated database and etcd clients.
func New(db *gorm.DB, clients *etcdstore.Clients, opts ...Option) *Service {
	s := &Service{
		db:            db,
		etcd:          clients,
		now:           func() time.Time { return time.Now().UTC() },
		log:           slog.Default(),
		maxTxnOps:     128,
		directTimeout: defaultDirectTimeout,
		settle:        defaultSettle,
		wake:          make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Ping checks that the default etcd answers, for readiness.
func (s *Service) Ping(ctx context.Context) error {
	return s.etcd.Ping(ctx, nil)
}

// SetClock replaces the clock (tests in other packages).
func (s *Service) SetClock(now func() time.Time) { s.now = now }
