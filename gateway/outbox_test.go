package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"devportal/gateway/apisix"
	"devportal/gateway/etcdstore"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/models"
)

func (fx *fixture) enqueue(t *testing.T, ops ...Op) {
	t.Helper()
	err := fx.db.Transaction(func(tx *gorm.DB) error { return fx.svc.Enqueue(tx, fx.group.ID, ops...) })
	if err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) drain(t *testing.T) int {
	t.Helper()
	n, err := fx.svc.DrainOutbox(fx.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (fx *fixture) routePlugins(t *testing.T, routeID string) map[string]any {
	t.Helper()
	r := fx.dump(t, fx.group.Prefix)["/routes/"+routeID]
	p, _ := r["plugins"].(map[string]any)
	return p
}

func listOf(t *testing.T, plugins map[string]any) []string {
	t.Helper()
	cr, ok := plugins["consumer-restriction"].(map[string]any)
	if !ok {
		t.Fatalf("no consumer-restriction in %v", plugins)
	}
	var out []string
	for _, v := range cr["whitelist"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func TestOutboxRoutePolicyAndWhitelist(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("api", "/api")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true, RateLimit: &RateLimit{Count: 5, TimeWindow: 60}})
		if n := fx.drain(t); n != 1 {
			t.Fatalf("applied %d", n)
		}
		plugins := fx.routePlugins(t, rid)
		if got := listOf(t, plugins); len(got) != 1 || got[0] != NobodyConsumer {
			t.Fatalf("empty whitelist = %v", got)
		}
		lc := plugins["limit-count"].(map[string]any)
		if lc["count"] != float64(5) || lc["key"] != "consumer_name" || lc["key_type"] != "var" || lc["rejected_code"] != float64(429) {
			t.Errorf("limit-count = %v", lc)
		}
		if ka := plugins["key-auth"].(map[string]any); ka["hide_credentials"] != true {
			t.Errorf("key-auth = %v", ka)
		}
		fx.enqueue(t, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_1"}, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_2"},
			Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_1"})
		fx.drain(t)
		if got := listOf(t, fx.routePlugins(t, rid)); fmt.Sprint(got) != "[app_1 app_2]" {
			t.Fatalf("whitelist = %v", got)
		}
		fx.enqueue(t, Op{Kind: OpWhitelistRemove, RouteID: rid, Username: "app_1"}, Op{Kind: OpWhitelistRemove, RouteID: rid, Username: "app_2"})
		fx.drain(t)
		if got := listOf(t, fx.routePlugins(t, rid)); fmt.Sprint(got) != "["+NobodyConsumer+"]" {
			t.Fatalf("emptied whitelist = %v", got)
		}
		// Auth off: the managed plugins go, the route's own stay.
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid})
		fx.drain(t)
		if plugins := fx.routePlugins(t, rid); plugins != nil {
			t.Fatalf("plugins left = %v", plugins)
		}
		// A route deleted meanwhile is not brought back.
		fx.enqueue(t, Op{Kind: OpWhitelistAdd, RouteID: "gone", Username: "app_1"}, Op{Kind: OpRoutePolicy, RouteID: "gone", KeyAuth: true})
		fx.drain(t)
		if _, ok := fx.dump(t, fx.group.Prefix)["/routes/gone"]; ok {
			t.Fatal("a route op created a route")
		}
		if n, _ := fx.svc.PendingOutbox(fx.ctx); n != 0 {
			t.Fatalf("%d entries pending", n)
		}
	})
}

func TestOutboxConsumersAndCredentials(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
		fx.enqueue(t,
			Op{Kind: OpConsumerPut, Username: "app_7", Labels: map[string]string{"application_id": "7"}},
			Op{Kind: OpCredentialPut, Username: "app_7", CredentialID: "k1", EncryptedKey: kr.Encrypt("secret-1")},
			Op{Kind: OpCredentialPut, Username: "app_7", CredentialID: "k2", EncryptedKey: kr.Encrypt("secret-2")},
		)
		fx.drain(t)
		kv := fx.dump(t, fx.group.Prefix)
		if kv["/consumers/app_7"]["username"] != "app_7" {
			t.Fatalf("consumer = %v", kv["/consumers/app_7"])
		}
		stored := kv["/consumers/app_7/credentials/k1"]["plugins"].(map[string]any)["key-auth"].(map[string]any)["key"].(string)
		if stored == "secret-1" {
			t.Fatal("key stored in clear")
		}
		if plain, err := kr.Decrypt(stored); err != nil || plain != "secret-1" {
			t.Fatalf("stored key decrypts to %q, %v", plain, err)
		}
		// A rotation's old key goes when its grace ends, not before.
		err := fx.db.Transaction(func(tx *gorm.DB) error {
			return fx.svc.EnqueueAt(tx, fx.group.ID, time.Now().Add(time.Hour), Op{Kind: OpCredentialDelete, Username: "app_7", CredentialID: "k1"})
		})
		if err != nil {
			t.Fatal(err)
		}
		fx.drain(t)
		if _, ok := fx.dump(t, fx.group.Prefix)["/consumers/app_7/credentials/k1"]; !ok {
			t.Fatal("credential deleted before its time")
		}
		fx.svc.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		fx.drain(t)
		if _, ok := fx.dump(t, fx.group.Prefix)["/consumers/app_7/credentials/k1"]; ok {
			t.Fatal("credential outlived its grace")
		}
		fx.enqueue(t, Op{Kind: OpConsumerDelete, Username: "app_7"}, Op{Kind: OpConsumerPut, Username: "app_8"})
		fx.drain(t)
		kv = fx.dump(t, fx.group.Prefix)
		if len(kv) != 1 || kv["/consumers/app_8"] == nil {
			t.Fatalf("after consumer delete: %v", keys(kv))
		}
	})
}

// 1,000 approvals recorded concurrently, each in its own database
// transaction, leave exactly 1,000 consumers in the whitelist.
func TestOutboxConcurrentApprovalsLoseNothing(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("busy", "/busy")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true})
		const n = 1000
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 32)
		ctx, cancel := context.WithCancel(fx.ctx)
		defer cancel()
		go fx.svc.RunOutbox(ctx, 20*time.Millisecond) // applies while approvals arrive
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				err := fx.db.Transaction(func(tx *gorm.DB) error {
					return fx.svc.Enqueue(tx, fx.group.ID, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: fmt.Sprint("app_", i)})
				})
				if err != nil {
					errs <- err
				}
				fx.svc.Notify()
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("approval: %v", err)
		}
		waitUntil(t, "outbox drained", func() bool { n, _ := fx.svc.PendingOutbox(fx.ctx); return n == 0 })
		cancel()
		got := listOf(t, fx.routePlugins(t, rid))
		seen := map[string]bool{}
		for _, u := range got {
			seen[u] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("whitelist has %d entries (%d distinct), want %d", len(got), len(seen), n)
		}
	})
}

// A change recorded while the worker is applying another is applied by the
// next pass, at once rather than at the next interval, and the pass before
// is not applied again although its applied marks may not be written yet.
func TestOutboxChangeDuringPassAppliedAtOnce(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("mid", "/mid")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true})
		fx.drain(t)

		var mu sync.Mutex
		var writes []int64 // etcd revision of each of the worker's writes
		fx.svc.applied = func(r etcdstore.Result) {
			mu.Lock()
			writes = append(writes, r.Revision)
			first := len(writes) == 1
			mu.Unlock()
			if first { // mid-pass: the first entry is in etcd, not marked yet
				fx.enqueue(t, Op{Kind: OpConsumerPut, Username: "app_late"})
				fx.svc.Notify()
			}
		}
		ctx, cancel := context.WithCancel(fx.ctx)
		done := make(chan struct{})
		go func() { defer close(done); fx.svc.RunOutbox(ctx, time.Hour) }()
		fx.enqueue(t, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_first"})
		fx.svc.Notify()

		deadline := time.Now().Add(5 * time.Second) // far below the interval
		for fx.dump(t, fx.group.Prefix)["/consumers/app_late"] == nil {
			if time.Now().After(deadline) {
				t.Fatal("the change recorded mid-pass waited for the interval")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(writes) != 2 {
			t.Fatalf("%d etcd writes, want 2 (one per change)", len(writes))
		}
		// The route was written once, by the first pass: the second did not
		// apply its entry again.
		resp, err := fx.cli.Get(fx.ctx, fx.group.Prefix+"/routes/"+rid)
		if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].ModRevision != writes[0] {
			t.Fatalf("route mod revision = %v (%v), want the first pass's %d", resp.Kvs, err, writes[0])
		}
		if got := listOf(t, fx.routePlugins(t, rid)); len(got) != 1 || got[0] != "app_first" {
			t.Fatalf("whitelist = %v", got)
		}
		if n, _ := fx.svc.PendingOutbox(fx.ctx); n != 0 {
			t.Fatalf("%d entries left unmarked after the worker stopped", n)
		}
	})
}

// Entries applied but whose marks were never written (the worker stopped
// before) are applied again, in order, by the next worker: at least once.
func TestOutboxUnmarkedEntriesApplyAgainInOrder(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("again", "/again")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true},
			Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_1"})
		lost := &drainState{}
		if n, err := fx.svc.drainPass(fx.ctx, lost); err != nil || n != 2 {
			t.Fatalf("pass applied %d, %v", n, err)
		}
		// The marks are lost (the worker stopped); a later change removes
		// the consumer again.
		fx.enqueue(t, Op{Kind: OpWhitelistRemove, RouteID: rid, Username: "app_1"})
		if n := fx.drain(t); n != 3 {
			t.Fatalf("next worker applied %d entries, want the 2 unmarked and the new one", n)
		}
		if got := listOf(t, fx.routePlugins(t, rid)); slices.Contains(got, "app_1") {
			t.Fatalf("whitelist = %v, want the remove applied after the add", got)
		}
		if n, _ := fx.svc.PendingOutbox(fx.ctx); n != 0 {
			t.Fatalf("pending = %d", n)
		}
	})
}

// Entries of a group that no longer exists are put aside as applied, and do
// not hold back the other groups' entries.
func TestOutboxEntriesOfAGoneGroup(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		gone, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: dbtest.Name("gone"), Prefix: "/" + dbtest.Name("gone")})
		if err != nil {
			t.Fatal(err)
		}
		err = fx.db.Transaction(func(tx *gorm.DB) error {
			return fx.svc.Enqueue(tx, gone.ID, Op{Kind: OpConsumerPut, Username: "app_gone"})
		})
		if err != nil {
			t.Fatal(err)
		}
		fx.enqueue(t, Op{Kind: OpConsumerPut, Username: "app_here"})
		if err := fx.db.Exec("DELETE FROM gateway_groups WHERE id = ?", gone.ID).Error; err != nil {
			t.Fatal(err)
		}
		if n := fx.drain(t); n != 1 {
			t.Fatalf("applied %d, want the live group's 1", n)
		}
		if fx.dump(t, fx.group.Prefix)["/consumers/app_here"] == nil {
			t.Fatal("the live group's entry was not applied")
		}
		if len(fx.dump(t, gone.Prefix)) != 0 {
			t.Fatal("the gone group's entry reached etcd")
		}
		if n, _ := fx.svc.PendingOutbox(fx.ctx); n != 0 {
			t.Fatalf("pending = %d", n)
		}
	})
}

// While a group's etcd is down, changes are accepted and wait; when it is
// back, every one is applied, in order, once.
func TestOutboxSurvivesEtcdOutage(t *testing.T) {
	own, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	fx := newFixture(t, dbtest.SQLite(t))
	g, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: "flaky", Prefix: "/apisix", EtcdEndpoints: own.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("o", "/o")).ID, PublishInput{GatewayGroupID: g.ID, Version: "1"})
	rid := p.Routes[0].ID
	own.Stop()
	var ops []Op
	ops = append(ops, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true})
	for i := 0; i < 50; i++ {
		ops = append(ops, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: fmt.Sprint("app_", i)})
	}
	ops = append(ops, Op{Kind: OpWhitelistRemove, RouteID: rid, Username: "app_0"}) // order matters: after its add
	for _, op := range ops {
		err := fx.db.Transaction(func(tx *gorm.DB) error { return fx.svc.Enqueue(tx, g.ID, op) })
		if err != nil {
			t.Fatalf("enqueue while etcd is down: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(fx.ctx, 30*time.Second)
	defer cancel()
	if _, err := fx.svc.DrainOutbox(ctx); err == nil {
		t.Fatal("drain with etcd down reported success")
	}
	if n, _ := fx.svc.PendingOutbox(fx.ctx); n != int64(len(ops)) {
		t.Fatalf("pending = %d, want %d", n, len(ops))
	}
	if b, err := fx.svc.OutboxBacklog(fx.ctx); err != nil || b.Waiting != int64(len(ops)) || b.LastError == "" || b.Since.IsZero() {
		t.Fatalf("backlog during the outage = %+v, %v; want every op waiting, with the error", b, err)
	}
	if err := own.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "outbox drained after restart", func() bool {
		fx.svc.DrainOutbox(fx.ctx)
		n, _ := fx.svc.PendingOutbox(fx.ctx)
		return n == 0
	})
	if b, err := fx.svc.OutboxBacklog(fx.ctx); err != nil || b.Waiting != 0 {
		t.Fatalf("backlog after the outage = %+v, %v; want none", b, err)
	}
	resp, err := own.Client(t).Get(fx.ctx, "/apisix/routes/"+rid)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatal(err)
	}
	if wl := routeWhitelist(t, resp.Kvs[0].Value); len(wl) != 49 || wl[0] != "app_1" {
		t.Fatalf("whitelist after outage = %v", wl)
	}
}

// A whole-service API keeps its policy on the APISIX service object, which
// every route of the service inherits, and a republish keeps it there.
func TestOutboxServicePolicySurvivesRepublish(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		tpl := mustTemplate(t, fx, httpSpec("whole", "/whole"))
		p := mustPublish(t, fx, tpl.ID, PublishInput{Version: "1"})
		fx.enqueue(t, Op{Kind: OpRoutePolicy, ServiceID: p.ID, KeyAuth: true}, Op{Kind: OpWhitelistAdd, ServiceID: p.ID, Username: "app_9"})
		fx.drain(t)
		mustPublish(t, fx, tpl.ID, PublishInput{Version: "2"})
		svc := fx.dump(t, fx.group.Prefix)["/services/"+p.ID]
		plugins, _ := svc["plugins"].(map[string]any)
		if got := listOf(t, plugins); fmt.Sprint(got) != "[app_9]" || plugins["key-auth"] == nil {
			t.Fatalf("service plugins after republish = %v", plugins)
		}
		if r := fx.routePlugins(t, p.Routes[0].ID); r != nil {
			t.Errorf("route got plugins of its own: %v", r)
		}
	})
}

// Applied entries older than the cutoff are deleted; entries not applied
// yet, and applied ones after the cutoff, stay.
func TestOutboxPruneDeletesOldAppliedEntries(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("prune", "/prune")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		fx.enqueue(t, Op{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true},
			Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_1"})
		if n := fx.drain(t); n != 2 {
			t.Fatalf("applied %d", n)
		}
		// A change that is not applied yet (etcd is never asked here).
		fx.enqueue(t, Op{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_2"})
		count := func() (all int64) {
			if err := fx.db.Model(&models.OutboxEntry{}).Count(&all).Error; err != nil {
				t.Fatal(err)
			}
			return all
		}
		before := count()
		if n, err := fx.svc.PruneOutbox(fx.ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("pruned %d entries applied after the cutoff (%v)", n, err)
		}
		n, err := fx.svc.PruneOutbox(fx.ctx, time.Now().Add(time.Hour))
		if err != nil || n < 2 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if got := count(); got != before-n {
			t.Fatalf("%d entries left, want %d", got, before-n)
		}
		if pending, _ := fx.svc.PendingOutbox(fx.ctx); pending != 1 {
			t.Fatalf("pending = %d, want the change not applied yet", pending)
		}
		if n := fx.drain(t); n != 1 {
			t.Fatalf("the pending change: applied %d", n)
		}
		if got := listOf(t, fx.routePlugins(t, rid)); !slices.Contains(got, "app_1") || !slices.Contains(got, "app_2") {
			t.Fatalf("whitelist = %v", got)
		}
	})
}
