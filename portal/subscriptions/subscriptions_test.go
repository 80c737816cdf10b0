package subscriptions_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/internal/listing"
	"devportal/internal/portaltest"
	"devportal/models"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/gatewaystate"
	"devportal/portal/subscriptions"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

func each(t *testing.T, f func(t *testing.T, w *portaltest.World)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, portaltest.New(t, db, member)) })
}

// route reads a route (or service) from etcd as JSON.
func object(t *testing.T, w *portaltest.World, kind, id string) map[string]any {
	t.Helper()
	resp, err := member.Client(t).Get(w.Ctx, w.Group.Prefix+"/"+kind+"/"+id)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	var v map[string]any
	json.Unmarshal(resp.Kvs[0].Value, &v)
	return v
}

func whitelist(t *testing.T, w *portaltest.World, routeID string) []string {
	t.Helper()
	r := object(t, w, "routes", routeID)
	cr, _ := r["plugins"].(map[string]any)["consumer-restriction"].(map[string]any)
	var out []string
	for _, v := range cr["whitelist"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func credentials(t *testing.T, w *portaltest.World, consumer string) map[string]string {
	t.Helper()
	resp, err := member.Client(t).Get(w.Ctx, w.Group.Prefix+"/consumers/"+consumer+"/credentials/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		var c struct {
			ID      string
			Plugins map[string]struct{ Key string } `json:"plugins"`
		}
		json.Unmarshal(kv.Value, &c)
		plain, err := w.Keyring.Decrypt(c.Plugins["key-auth"].Key)
		if err != nil {
			t.Fatalf("credential %s does not decrypt: %v", c.ID, err)
		}
		out[c.ID] = plain
	}
	return out
}

func newAPI(t *testing.T, w *portaltest.World, name string, approval string) (catalog.API, gateway.PublishedService) {
	t.Helper()
	svc := w.PublishService(t, name, "/"+name, "127.0.0.1", 1)
	api, err := w.Catalog.Create(w.Ctx, w.Admin, catalog.Input{GatewayGroupID: w.Group.ID, ServiceID: svc.ID,
		RouteID: svc.Routes[0].ID, Name: name, Auth: catalog.AuthKey, Approval: approval,
		RateLimit: &gateway.RateLimit{Count: 100, TimeWindow: 60}})
	if err != nil {
		t.Fatal(err)
	}
	if api, err = w.Catalog.Publish(w.Ctx, w.Admin, api.ID); err != nil {
		t.Fatal(err)
	}
	return api, svc
}

func TestSubscriptionLifecycleDrivesWhitelist(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		orders, ordersSvc := newAPI(t, w, "orders", catalog.ApprovalMan)
		stock, stockSvc := newAPI(t, w, "stock", catalog.ApprovalAuto)
		dev, org := w.Developer(t, "dev@example.com")
		app, err := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		ordersRoute, stockRoute := ordersSvc.Routes[0].ID, stockSvc.Routes[0].ID
		if got := whitelist(t, w, ordersRoute); fmt.Sprint(got) != "["+gateway.NobodyConsumer+"]" {
			t.Fatalf("published API with no subscription: whitelist %v", got)
		}

		sub, err := w.Subs.Request(w.Ctx, dev, app.ID, orders.ID)
		if err != nil || sub.Status != subscriptions.Pending {
			t.Fatalf("request = %+v, %v", sub, err)
		}
		w.Drain(t)
		if got := whitelist(t, w, ordersRoute); len(got) != 1 || got[0] != gateway.NobodyConsumer {
			t.Fatalf("pending subscription reached the whitelist: %v", got)
		}
		if _, err := w.Subs.Request(w.Ctx, dev, app.ID, orders.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("second request: %v", err)
		}
		if _, err := w.Subs.Approve(w.Ctx, dev, sub.ID); !errors.Is(err, apperr.ErrForbidden) {
			t.Fatalf("developer approved: %v", err)
		}
		if sub, err = w.Subs.Approve(w.Ctx, w.Admin, sub.ID); err != nil || sub.Status != subscriptions.Approved {
			t.Fatalf("approve = %+v, %v", sub, err)
		}
		w.Drain(t)
		if got := whitelist(t, w, ordersRoute); fmt.Sprint(got) != "["+app.Consumer+"]" {
			t.Fatalf("whitelist after approval = %v", got)
		}
		creds := credentials(t, w, app.Consumer)
		if len(creds) != 1 || creds[app.Keys[0].ID] != app.APIKey {
			t.Fatalf("consumer credentials = %v", creds)
		}

		// Automatic approval: at once, and the key works for both APIs.
		auto, err := w.Subs.Request(w.Ctx, dev, app.ID, stock.ID)
		if err != nil || auto.Status != subscriptions.Approved {
			t.Fatalf("auto request = %+v, %v", auto, err)
		}
		w.Drain(t)
		if got := whitelist(t, w, stockRoute); fmt.Sprint(got) != "["+app.Consumer+"]" {
			t.Fatalf("stock whitelist = %v", got)
		}

		// Revoking one API leaves the other alone.
		if sub, err = w.Subs.Revoke(w.Ctx, w.Admin, sub.ID, "unpaid invoice"); err != nil || sub.Reason != "unpaid invoice" {
			t.Fatalf("revoke = %+v, %v", sub, err)
		}
		w.Drain(t)
		if got := whitelist(t, w, ordersRoute); fmt.Sprint(got) != "["+gateway.NobodyConsumer+"]" {
			t.Fatalf("whitelist after revoke = %v", got)
		}
		if got := whitelist(t, w, stockRoute); fmt.Sprint(got) != "["+app.Consumer+"]" {
			t.Fatalf("revoke touched another API: %v", got)
		}
		// Illegal transitions.
		if _, err := w.Subs.Approve(w.Ctx, w.Admin, sub.ID); !errors.Is(err, apperr.ErrConflict) || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("approving a revoked subscription: %v", err)
		}
		if _, err := w.Subs.Reject(w.Ctx, w.Admin, auto.ID, "no"); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("rejecting an approved subscription: %v", err)
		}
		// A new request after a revoke is allowed, and a rejection keeps its reason.
		again, err := w.Subs.Request(w.Ctx, dev, app.ID, orders.ID)
		if err != nil {
			t.Fatal(err)
		}
		rej, err := w.Subs.Reject(w.Ctx, w.Admin, again.ID, "use the stock API")
		if err != nil || rej.Status != subscriptions.Rejected || rej.Reason != "use the stock API" {
			t.Fatalf("reject = %+v, %v", rej, err)
		}
		// The developer cancels the other one.
		if c, err := w.Subs.Cancel(w.Ctx, dev, auto.ID); err != nil || c.Status != subscriptions.Cancelled {
			t.Fatalf("cancel = %+v, %v", c, err)
		}
		w.Drain(t)
		if got := whitelist(t, w, stockRoute); fmt.Sprint(got) != "["+gateway.NobodyConsumer+"]" {
			t.Fatalf("whitelist after cancel = %v", got)
		}
		page, err := w.Subs.List(w.Ctx, dev, subscriptions.Filter{AppID: app.ID}, listing.Options{})
		if err != nil || page.Total != 3 || page.List[0].APIName != "orders" || page.List[0].AppName != "shop" {
			t.Fatalf("developer's list = %+v, %v", page, err)
		}
		pending, _ := w.Subs.List(w.Ctx, w.Admin, subscriptions.Filter{Status: subscriptions.Pending}, listing.Options{})
		if pending.Total != 0 {
			t.Fatalf("pending queue = %+v", pending)
		}
	})
}

func TestOrganizationsAreIsolated(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, _ := newAPI(t, w, "iso", catalog.ApprovalMan)
		alice, aliceOrg := w.Developer(t, "alice@example.com")
		bob, bobOrg := w.Developer(t, "bob@example.com")
		app, err := w.Apps.Create(w.Ctx, alice, aliceOrg, apps.Input{Name: "alice-app"})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := w.Subs.Request(w.Ctx, alice, app.ID, api.ID)
		if err != nil {
			t.Fatal(err)
		}
		notFound := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("bob %s: err = %v, want not found", what, err)
			}
		}
		_, err = w.Apps.Get(w.Ctx, bob, app.ID)
		notFound("reads alice's app", err)
		_, err = w.Apps.RotateKey(w.Ctx, bob, app.ID, 0)
		notFound("rotates alice's key", err)
		notFound("deletes alice's app", w.Apps.Delete(w.Ctx, bob, app.ID))
		_, err = w.Apps.List(w.Ctx, bob, aliceOrg, listing.Options{})
		notFound("lists alice's org", err)
		_, err = w.Apps.Create(w.Ctx, bob, aliceOrg, apps.Input{Name: "intruder"})
		notFound("creates in alice's org", err)
		_, err = w.Subs.Request(w.Ctx, bob, app.ID, api.ID)
		notFound("subscribes alice's app", err)
		_, err = w.Subs.Get(w.Ctx, bob, sub.ID)
		notFound("reads alice's subscription", err)
		_, err = w.Subs.Cancel(w.Ctx, bob, sub.ID)
		notFound("cancels alice's subscription", err)
		_, err = w.Subs.List(w.Ctx, bob, subscriptions.Filter{OrgID: aliceOrg}, listing.Options{})
		notFound("lists alice's subscriptions", err)
		_, err = w.Subs.List(w.Ctx, bob, subscriptions.Filter{AppID: app.ID}, listing.Options{})
		notFound("lists alice's app's subscriptions", err)
		if page, err := w.Apps.List(w.Ctx, bob, bobOrg, listing.Options{}); err != nil || page.Total != 0 {
			t.Errorf("bob's own org: %+v %v", page, err)
		}
		if s, _ := w.Subs.Get(w.Ctx, alice, sub.ID); s.Status != subscriptions.Pending {
			t.Errorf("alice's subscription changed: %+v", s)
		}
	})
}

func TestKeysRotateWithGraceAndLeaveNoClearText(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, _ := newAPI(t, w, "keys", catalog.ApprovalAuto)
		dev, org := w.Developer(t, "keys@example.com")
		app, err := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Subs.Request(w.Ctx, dev, app.ID, api.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		newKey, err := w.Apps.RotateKey(w.Ctx, dev, app.ID, time.Hour)
		if err != nil || newKey == app.APIKey {
			t.Fatalf("rotate: %q %v", newKey, err)
		}
		w.Drain(t)
		creds := credentials(t, w, app.Consumer)
		if len(creds) != 2 {
			t.Fatalf("during grace: %d credentials", len(creds))
		}
		got, _ := w.Apps.Get(w.Ctx, dev, app.ID)
		if len(got.Keys) != 2 || got.Keys[0].ExpiresAt != nil || got.Keys[1].ExpiresAt == nil {
			t.Fatalf("keys after rotation = %+v", got.Keys)
		}
		// After the grace the old key is gone from the gateway.
		later := time.Now().Add(2 * time.Hour)
		w.Gateway.SetClock(func() time.Time { return later })
		w.Drain(t)
		creds = credentials(t, w, app.Consumer)
		if len(creds) != 1 {
			t.Fatalf("after grace: %v", creds)
		}
		for _, k := range creds {
			if k != newKey {
				t.Fatal("the surviving credential is not the new key")
			}
		}
		// Neither the database nor the outbox holds a key in clear.
		for _, table := range []string{"api_keys", "outbox_entries", "audit_entries", "applications"} {
			var rows []map[string]any
			if err := w.DB.Table(table).Find(&rows).Error; err != nil || len(rows) == 0 {
				t.Fatalf("table %s: %d rows, %v", table, len(rows), err)
			}
			for _, r := range rows {
				b, _ := json.Marshal(r)
				if strings.Contains(string(b), newKey) || strings.Contains(string(b), app.APIKey) {
					t.Fatalf("table %s holds a key in clear: %s", table, b)
				}
			}
		}
		var k models.APIKey
		w.DB.First(&k, "app_id = ? AND expires_at IS NULL", app.ID)
		if plain, err := w.Box.Open(k.KeyEncrypted); err != nil || plain != newKey {
			t.Fatal("the sealed key does not open to the new key")
		}
		// Deleting the application removes its consumer from the gateway.
		if err := w.Apps.Delete(w.Ctx, dev, app.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		if c := object(t, w, "consumers", app.Consumer); c != nil {
			t.Fatalf("consumer left behind: %v", c)
		}
		if len(credentials(t, w, app.Consumer)) != 0 {
			t.Fatal("credentials left behind")
		}
	})
}

// The portal's whole gateway state is rebuilt from the database: a wiped
// group prefix comes back with every consumer, key and whitelist.
func TestReconcileRebuildsPortalState(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, svc := newAPI(t, w, "rebuild", catalog.ApprovalAuto)
		dev, org := w.Developer(t, "rebuild@example.com")
		app, err := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: "r"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Subs.Request(w.Ctx, dev, app.ID, api.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		src := gatewaystate.New(w.DB, w.Apps)
		if rep, err := w.Gateway.Diff(w.Ctx, w.Group.ID, src); err != nil || len(rep.Drift) != 0 {
			t.Fatalf("drift before the wipe: %+v, %v", rep, err)
		}
		member.Client(t).Delete(w.Ctx, w.Group.Prefix+"/", clientv3.WithPrefix())
		rep, err := w.Gateway.Reconcile(w.Ctx, w.Group.ID, src)
		if err != nil || rep.Repaired == 0 {
			t.Fatalf("reconcile: %+v, %v", rep, err)
		}
		if got := whitelist(t, w, svc.Routes[0].ID); fmt.Sprint(got) != "["+app.Consumer+"]" {
			t.Fatalf("whitelist after rebuild = %v", got)
		}
		if creds := credentials(t, w, app.Consumer); creds[app.Keys[0].ID] != app.APIKey {
			t.Fatalf("credentials after rebuild = %v", creds)
		}
	})
}

// The reconciler rebuilds a whitelist with the approved subscribers only,
// in the order they were approved (the order the outbox wrote them in), so
// a group it did not change compares equal to what it would write.
func TestReconcileRebuildsWhitelistsInApprovalOrder(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, svc := newAPI(t, w, "ordered", catalog.ApprovalMan)
		rid := svc.Routes[0].ID
		dev, org := w.Developer(t, "ordered@example.com")
		subs := map[string]subscriptions.Subscription{}
		consumers := map[string]string{}
		for _, name := range []string{"a1", "a2", "a3", "a4"} {
			app, err := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if subs[name], err = w.Subs.Request(w.Ctx, dev, app.ID, api.ID); err != nil {
				t.Fatal(err)
			}
			consumers[name] = app.Consumer
		}
		// a3 then a1 then a2 approved, a1 revoked, a4 left pending.
		for _, name := range []string{"a3", "a1", "a2"} {
			time.Sleep(2 * time.Millisecond) // distinct decision times
			if _, err := w.Subs.Approve(w.Ctx, w.Admin, subs[name].ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Subs.Revoke(w.Ctx, w.Admin, subs["a1"].ID, "test"); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		want := fmt.Sprint([]string{consumers["a3"], consumers["a2"]})
		if got := fmt.Sprint(whitelist(t, w, rid)); got != want {
			t.Fatalf("whitelist written by the outbox = %v, want %v", got, want)
		}
		src := gatewaystate.New(w.DB, w.Apps)
		if rep, err := w.Gateway.Diff(w.Ctx, w.Group.ID, src); err != nil || len(rep.Drift) != 0 {
			t.Fatalf("drift: %+v, %v", rep, err)
		}
		member.Client(t).Delete(w.Ctx, w.Group.Prefix+"/routes/"+rid)
		if rep, err := w.Gateway.Reconcile(w.Ctx, w.Group.ID, src); err != nil || rep.Repaired != 1 {
			t.Fatalf("reconcile: %+v, %v", rep, err)
		}
		if got := fmt.Sprint(whitelist(t, w, rid)); got != want {
			t.Fatalf("whitelist rebuilt by the reconciler = %v, want %v", got, want)
		}
	})
}

// Deleting things never opens a route: a deleted application leaves the
// whitelists, a deleted key-auth API leaves its route closed, and the
// reconciler agrees. A pending application's key is known to the gateway
// (403 there, not 401).
func TestDeletionsCloseRoutes(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, svc := newAPI(t, w, "closing", catalog.ApprovalAuto)
		manual, _ := newAPI(t, w, "waiting", catalog.ApprovalMan)
		rid := svc.Routes[0].ID
		dev, org := w.Developer(t, "del@example.com")
		a1, _ := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: "one"})
		a2, _ := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: "two"})
		if _, err := w.Subs.Request(w.Ctx, dev, a1.ID, api.ID); err != nil {
			t.Fatal(err)
		}
		if s, err := w.Subs.Request(w.Ctx, dev, a2.ID, manual.ID); err != nil || s.Status != subscriptions.Pending {
			t.Fatalf("pending request: %+v %v", s, err)
		}
		w.Drain(t)
		if creds := credentials(t, w, a2.Consumer); len(creds) != 1 {
			t.Fatalf("a pending application's key is unknown to the gateway: %v", creds)
		}
		if err := w.Apps.Delete(w.Ctx, dev, a1.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		if got := whitelist(t, w, rid); fmt.Sprint(got) != "["+gateway.NobodyConsumer+"]" {
			t.Fatalf("deleted application still whitelisted: %v", got)
		}
		src := gatewaystate.New(w.DB, w.Apps)
		if rep, _ := w.Gateway.Diff(w.Ctx, w.Group.ID, src); len(rep.Drift) != 0 {
			t.Fatalf("drift after deleting an application: %+v", rep.Drift)
		}
		if err := w.Catalog.Delete(w.Ctx, w.Admin, api.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		plugins, _ := object(t, w, "routes", rid)["plugins"].(map[string]any)
		if plugins["key-auth"] == nil || fmt.Sprint(whitelist(t, w, rid)) != "["+gateway.NobodyConsumer+"]" || plugins["limit-count"] != nil {
			t.Fatalf("route after deleting its API: %v", plugins)
		}
		if rep, err := w.Gateway.Reconcile(w.Ctx, w.Group.ID, src); err != nil || len(rep.Drift) != 0 {
			t.Fatalf("reconcile after deleting an API: %+v %v", rep, err)
		}
		// A new API on the route takes it over.
		again, err := w.Catalog.Create(w.Ctx, w.Admin, catalog.Input{GatewayGroupID: w.Group.ID, ServiceID: svc.ID, RouteID: rid,
			Name: "reopened", Auth: catalog.AuthNone})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Catalog.Publish(w.Ctx, w.Admin, again.ID); err != nil {
			t.Fatal(err)
		}
		w.Drain(t)
		if p := object(t, w, "routes", rid)["plugins"]; p != nil {
			t.Fatalf("an open API's route keeps plugins: %v", p)
		}
		if rep, _ := w.Gateway.Diff(w.Ctx, w.Group.ID, src); len(rep.Drift) != 0 {
			t.Fatalf("drift after reopening: %+v", rep.Drift)
		}
	})
}
