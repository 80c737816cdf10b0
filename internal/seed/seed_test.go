package seed_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/internal/portaltest"
	"devportal/internal/seed"
	"devportal/models"
	"devportal/portal/gatewaystate"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

func TestSeedWritesWhatTheReconcilerWants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := portaltest.New(t, db, member)
		size := seed.Size{Orgs: 3, Developers: 6, Services: 12, RoutesPerSvc: 2, Apps: 40, Subscriptions: 200, Audit: 7}
		state := gatewaystate.New(db, w.Apps)
		cfg := seed.Config{Size: size, GroupID: w.Group.ID, Box: w.Box, State: state, Batch: 50}
		res, err := seed.Run(w.Ctx, db, w.Gateway, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Routes != 24 || res.Subscriptions != 200 || res.Pending == 0 || res.Approved == 0 {
			t.Fatalf("result %+v", res)
		}
		for _, c := range []struct {
			model any
			want  int64
		}{
			{&models.Organization{}, 3 + 1}, // and default
			{&models.Application{}, 40}, {&models.APIKey{}, 40}, {&models.PortalAPI{}, 12},
			{&models.Subscription{}, 200}, {&models.AuditEntry{}, 7},
		} {
			var n int64
			if err := db.Model(c.model).Count(&n).Error; err != nil || n != c.want {
				t.Errorf("%T: %d rows (%v), want %d", c.model, n, err, c.want)
			}
		}
		var states []string
		db.Model(&models.Subscription{}).Distinct("status").Order("status").Pluck("status", &states)
		if len(states) != 5 {
			t.Errorf("states %v, want all five", states)
		}
		// etcd holds exactly what the database says: the reconciler
		// finds nothing to repair.
		rep, err := w.Gateway.Diff(w.Ctx, w.Group.ID, state)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drift) != 0 || rep.Checked == 0 {
			t.Fatalf("drift after seeding: %d keys checked, %+v", rep.Checked, rep.Drift)
		}
		// The indexes dropped for the bulk insert are back.
		if !db.Migrator().HasIndex(&models.Subscription{}, "idx_sub_status_time") {
			t.Error("idx_sub_status_time is missing after the seed")
		}
		if _, err := seed.Run(w.Ctx, db, w.Gateway, cfg); !errors.Is(err, seed.ErrSeeded) {
			t.Errorf("a second seed: %v, want ErrSeeded", err)
		}
	})
}
