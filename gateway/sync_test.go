package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/models"
)

// Publishes, edits and deletes made while a group's etcd is down are
// accepted, recorded and marked pending; once etcd is back the outbox writes
// them in order with the portal's changes recorded after them, and etcd ends
// exactly as the database says (no drift).
func TestServiceChangesWhileEtcdIsDownAreQueued(t *testing.T) {
	own, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		fx := newFixture(t, db, WithDirectTimeout(300*time.Millisecond))
		g, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: dbtest.Name("down"), Prefix: "/" + dbtest.Name("q"), EtcdEndpoints: own.Endpoints()})
		if err != nil {
			t.Fatal(err)
		}
		specA := httpSpec("a", "/a1")
		specA.Routes = append(specA.Routes, httpSpec("a2", "/a2").Routes...)
		specA.Routes[1].Name = "second"
		tplA := mustTemplate(t, fx, specA)
		a1 := mustPublish(t, fx, tplA.ID, PublishInput{GatewayGroupID: g.ID, Version: "1"})
		b := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("b", "/b")).ID, PublishInput{GatewayGroupID: g.ID, Version: "1"})
		cli := own.Client(t)
		before := dumpFrom(t, cli, g.Prefix)

		own.Stop()
		// Version 2 of A drops its second route and adds a third.
		specA2 := tplA.ServiceSpec
		specA2.Routes = []models.RouteSpec{tplA.Routes[0], httpSpec("a3", "/a3").Routes[0]}
		specA2.Routes[1].Name = "third"
		if _, err := fx.svc.UpdateTemplate(fx.ctx, tplA.ID, specA2); err != nil {
			t.Fatal(err)
		}
		a2, err := fx.svc.Publish(fx.ctx, tplA.ID, PublishInput{GatewayGroupID: g.ID, Version: "2"})
		if err != nil || !a2.Pending || a2.Version != "2" {
			t.Fatalf("publish with etcd down = %+v, %v; want it recorded and pending", a2, err)
		}
		third := ""
		for _, r := range a2.Routes {
			if r.Name == "third" {
				third = r.ID
			}
		}
		// The portal then protects the new route and approves a subscription on it.
		portal := []Op{{Kind: OpRoutePolicy, RouteID: third, KeyAuth: true}, {Kind: OpWhitelistAdd, RouteID: third, Username: "app_7"}}
		if err := fx.db.Transaction(func(tx *gorm.DB) error { return fx.svc.Enqueue(tx, g.ID, portal...) }); err != nil {
			t.Fatal(err)
		}
		if queued, err := fx.svc.DeleteService(fx.ctx, g.ID, b.ID); err != nil || !queued {
			t.Fatalf("delete with etcd down = %v, %v; want queued", queued, err)
		}
		c, err := fx.svc.CreateService(fx.ctx, g.ID, DirectServiceInput{ServiceSpec: httpSpec("c", "/c")})
		if err != nil || !c.Pending {
			t.Fatalf("direct create with etcd down = %+v, %v", c, err)
		}
		if got, _ := fx.svc.GetService(fx.ctx, g.ID, a1.ID); got.Version != "2" {
			t.Fatalf("database holds version %q of A, want 2", got.Version)
		}

		if err := own.Restart(); err != nil {
			t.Fatal(err)
		}
		if got := dumpFrom(t, cli, g.Prefix); fmt.Sprint(keys(got)) != fmt.Sprint(keys(before)) {
			t.Fatalf("etcd changed before the outbox ran: %v, was %v", keys(got), keys(before))
		}
		waitUntil(t, "queue drained", func() bool {
			fx.svc.DrainOutbox(fx.ctx)
			n, _ := fx.svc.PendingOutbox(fx.ctx)
			return n == 0
		})
		after := dumpFrom(t, cli, g.Prefix)
		for _, k := range keys(after) {
			if strings.Contains(k, "/"+b.ID) {
				t.Errorf("deleted service B left %s", k)
			}
		}
		if _, ok := after["/routes/"+a1.Routes[1].ID]; ok {
			t.Errorf("A's dropped route %s is still in etcd", a1.Routes[1].ID)
		}
		for _, r := range a2.Routes {
			if v := after["/routes/"+r.ID]["labels"].(map[string]any)["version"]; v != "2" {
				t.Errorf("A's route %s runs version %v, want 2", r.ID, v)
			}
		}
		if a2.Routes[0].ID != a1.Routes[0].ID {
			t.Errorf("A's kept route changed ID: %s → %s", a1.Routes[0].ID, a2.Routes[0].ID)
		}
		if _, ok := after["/services/"+c.ID]; !ok {
			t.Errorf("service C created during the outage is missing")
		}
		if wl := listOf(t, pluginsOf(after["/routes/"+third])); fmt.Sprint(wl) != "[app_7]" {
			t.Errorf("the approval recorded after the publish was lost: whitelist %v", wl)
		}
		rep, err := fx.svc.Diff(fx.ctx, g.ID, opsSource(portal))
		if err != nil || len(rep.Drift) != 0 {
			t.Fatalf("drift after the outage: %+v, %v", rep.Drift, err)
		}
	})
}

// A queued sync leaves alone a key that another service took meanwhile,
// and still writes the rest: one foreign key never blocks the group's queue.
func TestQueuedSyncLeavesOthersKeys(t *testing.T) {
	fx := newFixture(t, dbtest.SQLite(t))
	tpl := mustTemplate(t, fx, httpSpec("gone", "/gone"))
	p := mustPublish(t, fx, tpl.ID, PublishInput{Version: "1"})
	stale := keysOf(fx.group.Prefix, mustLoad(t, fx, p.ID))
	// The service is deleted while etcd is "down", then its route ID is reused
	// by another service that published directly once etcd was back.
	if err := fx.db.Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&models.PublishedRoute{}, &models.ServiceHistory{}, &models.PublishedService{}} {
			if err := tx.Where("group_id = ? AND service_id = ?", fx.group.ID, p.ID).Delete(m).Error; err != nil {
				return err
			}
		}
		return fx.svc.Enqueue(tx, fx.group.ID, Op{Kind: OpServiceSync, ServiceID: p.ID, TemplateID: tpl.ID, StaleKeys: stale})
	}); err != nil {
		t.Fatal(err)
	}
	routeKey := fx.group.Prefix + "/routes/" + p.Routes[0].ID
	if _, err := fx.cli.Put(fx.ctx, routeKey, `{"uri":"/other","labels":{"api7_service_template_id":"someone-else"}}`); err != nil {
		t.Fatal(err)
	}
	fx.drain(t)
	left := fx.dump(t, fx.group.Prefix)
	if got := keys(left); len(got) != 1 || got[0] != "/routes/"+p.Routes[0].ID {
		t.Fatalf("left in etcd: %v; want only the other service's route", got)
	}
	if left["/routes/"+p.Routes[0].ID]["uri"] != "/other" {
		t.Fatal("the other service's route was overwritten")
	}
}

func mustLoad(t *testing.T, fx *fixture, serviceID string) *models.PublishedService {
	t.Helper()
	p, err := fx.svc.publishedBy(fx.ctx, fx.db, "group_id = ? AND service_id = ?", fx.group.ID, serviceID)
	if err != nil || p == nil {
		t.Fatalf("load %s: %v", serviceID, err)
	}
	return p
}

func pluginsOf(obj map[string]any) map[string]any {
	p, _ := obj["plugins"].(map[string]any)
	return p
}
