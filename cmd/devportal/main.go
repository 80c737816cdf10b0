// Command devportal is the whole product in one binary: the developer portal
// and the JSON Admin API, the gateway control plane, and, by default, an
// embedded etcd and an in-process data plane node, so that `make run` works
// on a fresh machine. DATABASE_URL, ETCD_ENDPOINTS and --no-gateway turn the
// embedded parts off for production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/gateway/dataplane"
	"devportal/gateway/etcdserver"
	"devportal/gateway/etcdstore"
	"devportal/gateway/leader"
	"devportal/handlers"
	"devportal/models"
	"devportal/portal/accounts"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		os.Exit(seedMain(os.Args[2:]))
	}
	cfg, err := loadConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devportal:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	if err := run(ctx, cfg, os.Stdout, log); err != nil {
		log.Error("devportal: stopped with an error", "err", err)
		os.Exit(1)
	}
}

// run starts everything cfg describes, serves until ctx ends, then shuts
// down in order: stop accepting and let in-flight requests finish, close
// the data plane node, the etcd clients, the embedded etcd and the database.
// Generated admin credentials are printed once to out, never logged.
func run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) (err error) {
	// Everything opened is closed in reverse order, on every return path.
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		if err == nil {
			log.Info("devportal: stopped")
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// Take the site's port first: a port in use fails the start before
	// anything else is started. Connections queue until the app serves.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	closers = append(closers, func() { ln.Close() })

	// The database.
	dsn := cfg.DatabaseURL
	if !models.IsPostgres(dsn) {
		if dsn != "" {
			log.Warn("DATABASE_URL is not postgres://; using SQLite in the data dir")
		}
		dsn = filepath.Join(cfg.DataDir, "portal.db")
	}
	db, err := models.Open(dsn)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	closers = append(closers, func() {
		if err := sqlDB.Close(); err != nil {
			log.Warn("database: close", "err", err)
		}
	})
	if err := models.Migrate(db); err != nil {
		return fmt.Errorf("database: migrate: %w", err)
	}
	if models.IsPostgres(dsn) {
		log.Info("database: PostgreSQL")
	} else {
		log.Info("database: SQLite", "path", dsn)
	}

	// etcd: an external cluster, or the embedded member.
	endpoints := cfg.EtcdEndpoints
	maxTxnOps := cfg.EtcdMaxTxnOps
	var etcdErr <-chan error
	if len(endpoints) == 0 {
		if maxTxnOps == 0 {
			maxTxnOps = etcdserver.DefaultMaxTxnOps
		}
		srv, err := etcdserver.Start(ctx, etcdserver.Config{
			Dir:       filepath.Join(cfg.DataDir, "etcd"),
			ClientURL: cfg.EtcdListen,
			PeerURL:   cfg.EtcdPeerListen,
			MaxTxnOps: uint(maxTxnOps),
		})
		if err != nil {
			return fmt.Errorf("embedded etcd: %w", err)
		}
		closers = append(closers, func() {
			srv.Close()
			log.Info("etcd: embedded member stopped")
		})
		endpoints, etcdErr = srv.Endpoints(), srv.Err()
		log.Info("etcd: embedded member", "client_url", cfg.EtcdListen, "dir", filepath.Join(cfg.DataDir, "etcd"))
	} else {
		if maxTxnOps == 0 {
			maxTxnOps = etcdDefaultMaxTxnOps
		}
		log.Info("etcd: external cluster", "endpoints", endpoints)
	}
	clients := etcdstore.NewClients(endpoints)
	closers = append(closers, clients.Close)

	// The control core and the accounts.
	gw := gateway.New(db, clients, gateway.WithMaxTxnOps(maxTxnOps), gateway.WithLogger(log))
	if err := gw.EnsureDefaults(ctx); err != nil {
		return err
	}
	acc := accounts.New(db)
	seeded, err := acc.EnsureAdmin(ctx, cfg.Admin)
	if err != nil {
		return fmt.Errorf("admin account: %w", err)
	}
	announce(out, log, seeded)

	// The portal.
	p, err := newPortal(ctx, cfg, db, gw, acc, log)
	if err != nil {
		return err
	}
	// The outbox worker and the reconciler run until shutdown starts.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var work sync.WaitGroup
	closers = append(closers, func() { stopWork(); work.Wait() })
	// They run on one replica at a time: the one elected through etcd.
	electCli, err := clients.For(nil)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	work.Go(func() {
		leader.Run(workCtx, electCli, "/devportal/leader/worker", leader.DefaultTTL, log, func(ctx context.Context) {
			var lead sync.WaitGroup
			lead.Go(func() { gw.RunOutbox(ctx, 250*time.Millisecond) })
			lead.Go(func() { runReconciler(ctx, gw, p.state, cfg.ReconcileInterval, log) })
			lead.Wait()
		})
	})

	// The in-process data plane node of the default group.
	if !cfg.NoGateway {
		node, err := dataplane.New(dataplane.Config{
			Endpoints:     endpoints,
			Prefix:        gateway.DefaultGroupPrefix,
			Listen:        cfg.GatewayListen,
			MetricsListen: cfg.GatewayMetricsListen,
			Keyring:       cfg.Keyring,
			Logger:        log,
		})
		if err != nil {
			return fmt.Errorf("data plane: %w", err)
		}
		// The node gets a context of its own: on SIGTERM it is closed after
		// the Admin API has drained, not at the same moment.
		if err := node.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("data plane: %w", err)
		}
		closers = append(closers, func() {
			if err := node.Close(); err != nil {
				log.Warn("data plane: close", "err", err)
			}
		})
		log.Info("data plane: serving the default group", "listen", node.Addr(), "node_id", node.ID())
	}

	// The site.
	app := handlers.New(handlers.Config{
		Gateway:       gw,
		Accounts:      acc,
		Orgs:          p.orgs,
		Apps:          p.apps,
		Catalog:       p.catalog,
		Subscriptions: p.subs,
		Audit:         p.audit,
		Signup:        p.signup,
		State:         p.state,
		Site:          cfg.Site,
		PingDB:        sqlDB.PingContext,
		Logger:        log,
	})
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	log.Info("devportal: serving", "listen", ln.Addr().String(), "admin_api", "/api/v1", "docs", "/api/docs")

	select {
	case <-ctx.Done():
		log.Info("devportal: shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case err := <-etcdErr:
		shutdown(app, cfg.ShutdownTimeout, log)
		return fmt.Errorf("embedded etcd: %w", err)
	}
	shutdown(app, cfg.ShutdownTimeout, log)
	if err := <-served; err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// shutdown stops accepting connections and waits for in-flight requests,
// up to timeout.
func shutdown(app *fiber.App, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := app.ShutdownWithContext(ctx); err != nil {
		log.Warn("http server: shutdown", "err", err)
	}
}

// announce tells what EnsureAdmin did. Generated secrets go to out (the
// terminal), once, and never to the log.
func announce(out io.Writer, log *slog.Logger, s accounts.Seeded) {
	switch {
	case s.Created:
		log.Info("admin: account created", "email", s.Email)
	case s.TokenAdded:
		log.Info("admin: API token from DEVPORTAL_ADMIN_TOKEN added")
	}
	if s.Password == "" && s.Token == "" {
		return
	}
	fmt.Fprintln(out, "")
	fmt.Fprintln(out, "================================================================")
	fmt.Fprintln(out, " devportal: first start. Save these now; they are not shown again.")
	if s.Token != "" {
		fmt.Fprintf(out, "   Admin API token (header X-API-KEY): %s\n", s.Token)
	}
	fmt.Fprintf(out, "   Admin sign-in e-mail:               %s\n", s.Email)
	if s.Password != "" {
		fmt.Fprintf(out, "   Admin password:                     %s\n", s.Password)
	}
	fmt.Fprintln(out, "================================================================")
	fmt.Fprintln(out, "")
}
