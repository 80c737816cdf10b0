package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/gateway/apisix"
	"devportal/portal/accounts"
	"devportal/portal/apps"
	"devportal/portal/audit"
	"devportal/portal/catalog"
	"devportal/portal/gatewaystate"
	"devportal/portal/orgs"
	"devportal/portal/secrets"
	"devportal/portal/signup"
	"devportal/portal/subscriptions"
)

// portalServices are the portal's domain services, wired together.
type portalServices struct {
	orgs    *orgs.Service
	apps    *apps.Service
	catalog *catalog.Service
	subs    *subscriptions.Service
	audit   *audit.Log
	signup  *signup.Service
	state   *gatewaystate.Source
	box     *secrets.Box
}

func newPortal(ctx context.Context, cfg Config, db *gorm.DB, gw *gateway.Service, acc *accounts.Service, log *slog.Logger) (*portalServices, error) {
	secret := cfg.Secret
	if secret == "" {
		var created bool
		var err error
		path := filepath.Join(cfg.DataDir, "secret")
		if secret, created, err = secrets.LoadOrCreate(path); err != nil {
			return nil, fmt.Errorf("server secret: %w", err)
		}
		if created {
			log.Info("secrets: generated the server secret; back it up, keys cannot be rebuilt without it", "path", path)
		}
	}
	box, err := secrets.NewBox(secret)
	if err != nil {
		return nil, err
	}
	keyring, err := apisix.NewKeyring(cfg.Keyring)
	if err != nil {
		return nil, err
	}
	o := orgs.New(db, acc)
	if err := o.EnsureDefault(ctx); err != nil {
		return nil, fmt.Errorf("default organization: %w", err)
	}
	a := apps.New(db, gw, o, box, keyring)
	return &portalServices{
		orgs: o, apps: a, catalog: catalog.New(db, gw), subs: subscriptions.New(db, gw, a, o),
		audit: audit.New(db), signup: signup.New(db, acc, o), state: gatewaystate.New(db, a), box: box,
	}, nil
}

// runReconciler repairs every group's etcd from the database at start and
// then every interval, until ctx ends.
func runReconciler(ctx context.Context, gw *gateway.Service, src gateway.StateSource, interval time.Duration, log *slog.Logger) {
	pass := func() {
		groups, err := gw.ListGroups(ctx, gateway.ListOptions{Limit: 500})
		if err != nil {
			log.Warn("reconcile: list groups", "err", err)
			return
		}
		for _, g := range groups.List {
			rep, err := gw.Reconcile(ctx, g.ID, src)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("reconcile: group not repaired", "group", g.ID, "err", err)
				}
				continue
			}
			if len(rep.Drift) > 0 {
				log.Warn("reconcile: drift repaired", "group", g.ID, "keys", rep.Repaired)
			}
		}
	}
	pass()
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pass()
		}
	}
}
