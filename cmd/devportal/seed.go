package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"devportal/gateway"
	"devportal/gateway/etcdserver"
	"devportal/gateway/etcdstore"
	"devportal/internal/seed"
	"devportal/models"
	"devportal/portal/accounts"
)

// seedMain is `devportal seed --size large|small [devportal flags]`: it
// fills the database and etcd the flags name (the same as the server's)
// with a portal at scale, then exits. Run it before starting the server.
func seedMain(args []string) int {
	size, rest, err := seedArgs(args)
	if err == nil {
		var cfg Config
		cfg, err = loadConfig(rest, os.Getenv, os.Stderr)
		if err == nil {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			err = runSeed(ctx, cfg, size, os.Stdout, log)
		}
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "devportal seed:", err)
		return 1
	}
	return 0
}

// seedArgs takes --size out of args; the rest are the server's flags.
func seedArgs(args []string) (seed.Size, []string, error) {
	name := "small"
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--size" || a == "-size":
			if i+1 == len(args) {
				return seed.Size{}, nil, errors.New("--size needs a value: large or small")
			}
			name = args[i+1]
			i++
		case strings.HasPrefix(a, "--size=") || strings.HasPrefix(a, "-size="):
			name = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	size, ok := seed.Sizes[name]
	if !ok {
		return seed.Size{}, nil, fmt.Errorf("--size %q: want large or small", name)
	}
	return size, rest, nil
}

// runSeed opens what run opens (database, embedded or external etcd, the
// control core and the portal's services) and seeds them.
func runSeed(ctx context.Context, cfg Config, size seed.Size, out io.Writer, log *slog.Logger) error {
	start := time.Now()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	dsn := cfg.DatabaseURL
	if !models.IsPostgres(dsn) {
		dsn = filepath.Join(cfg.DataDir, "portal.db")
	}
	db, err := models.Open(dsn)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if err := models.Migrate(db); err != nil {
		return fmt.Errorf("database: migrate: %w", err)
	}
	if !models.IsPostgres(dsn) {
		// One connection, so these hold for every statement: a seed that
		// dies half way is started again on a fresh data dir anyway.
		sqlDB.SetMaxOpenConns(1)
		for _, p := range []string{"PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144", "PRAGMA temp_store=MEMORY"} {
			if err := db.Exec(p).Error; err != nil {
				return fmt.Errorf("database: %s: %w", p, err)
			}
		}
	}
	endpoints, maxTxnOps := cfg.EtcdEndpoints, cfg.EtcdMaxTxnOps
	if len(endpoints) == 0 {
		if maxTxnOps == 0 {
			maxTxnOps = etcdserver.DefaultMaxTxnOps
		}
		srv, err := etcdserver.Start(ctx, etcdserver.Config{Dir: filepath.Join(cfg.DataDir, "etcd"),
			ClientURL: cfg.EtcdListen, PeerURL: cfg.EtcdPeerListen, MaxTxnOps: uint(maxTxnOps)})
		if err != nil {
			return fmt.Errorf("embedded etcd: %w", err)
		}
		defer srv.Close()
		endpoints = srv.Endpoints()
	} else if maxTxnOps == 0 {
		maxTxnOps = etcdDefaultMaxTxnOps
	}
	clients := etcdstore.NewClients(endpoints)
	defer clients.Close()
	// Nothing else writes while a seed runs: the reconciler need not wait
	// to confirm what it finds (it would read a million rows twice).
	gw := gateway.New(db, clients, gateway.WithMaxTxnOps(maxTxnOps), gateway.WithLogger(log), gateway.WithReconcileSettle(0))
	if err := gw.EnsureDefaults(ctx); err != nil {
		return err
	}
	p, err := newPortal(ctx, cfg, db, gw, accounts.New(db), log)
	if err != nil {
		return err
	}
	res, err := seed.Run(ctx, db, gw, seed.Config{Size: size, Box: p.box, State: p.state, Progress: out})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seed: %d routes, %d applications, %d subscriptions (%d approved, %d pending) in %s\n",
		res.Routes, size.Apps, res.Subscriptions, res.Approved, res.Pending, time.Since(start).Round(time.Second))
	fmt.Fprintf(out, "seed: developers sign in as %s ... with password %s\n", seed.DeveloperEmail(0), seed.Password)
	return nil
}
