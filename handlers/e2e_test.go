package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"devportal/gateway"
	"devportal/gateway/dataplane"
	"devportal/internal/dbtest"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
)

// gatewayNode is a real data plane node serving a group's prefix on
// loopback, with the client that calls it.
type gatewayNode struct {
	node *dataplane.Node // nil when the node is a process of its own
	addr string          // where it serves
	http *http.Client
}

func startNode(t testing.TB, prefix string) *gatewayNode {
	return startNodeLogging(t, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
}

// startNodeLogging starts a node logging to log, with its access log on or off.
func startNodeLogging(t testing.TB, prefix string, log *slog.Logger, accessLog bool) *gatewayNode {
	t.Helper()
	n, err := dataplane.New(dataplane.Config{
		Endpoints: member.Endpoints(),
		Prefix:    prefix,
		Listen:    "127.0.0.1:0",
		Logger:    log,
		AccessLog: accessLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &gatewayNode{node: n, addr: n.Addr(), http: &http.Client{Timeout: 5 * time.Second}}
}

// get calls path on the node with key in the apikey header ("" for none)
// and returns the status and body.
func (g *gatewayNode) get(t testing.TB, path, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+g.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s on the data plane: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// await polls the node until path with key answers status (and body, when
// body is not ""), for at most 10 seconds.
func (g *gatewayNode) await(t testing.TB, path, key string, status int, body string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, b := g.get(t, path, key)
		if got == status && (body == "" || b == body) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s with key %.8q: %d %q, want %d %q within 10s", path, key, got, b, status, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// outboxWorker runs the outbox worker until stop.
type outboxWorker struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func runOutbox(t testing.TB, gw *gateway.Service) *outboxWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &outboxWorker{cancel: cancel}
	w.wg.Go(func() { gw.RunOutbox(ctx, 50*time.Millisecond) })
	t.Cleanup(w.stop)
	return w
}

func (w *outboxWorker) stop() { w.cancel(); w.wg.Wait() }

const (
	forbidden  = `{"message":"The consumer_name is forbidden."}` + "\n"
	invalidKey = `{"message":"Invalid API key in request"}` + "\n"
	missingKey = `{"message":"Missing API key in request"}` + "\n"
)

// Issue 4 end to end, through the Admin API and a real data plane node:
// publish a service, put its routes on the portal with key auth and manual
// approval, create an application, subscribe, approve (200), rotate the key
// (both work, then only the new one), revoke (403).
func TestEndToEndSubscriptionReachesDataPlane(t *testing.T) {
	// Every log line of the flow (the control plane, the portal, the node
	// with its access log) is kept, to check no key or token is in one.
	logs := &lockedBuffer{}
	captured := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(captured)
	t.Cleanup(func() { slog.SetDefault(prev) })
	e := newPortalEnv(t, dbtest.SQLite(t))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s", r.URL.Path)
	}))
	t.Cleanup(up.Close)
	upPort := up.Listener.Addr().(*net.TCPAddr).Port
	node := startNodeLogging(t, e.w.Group.Prefix, captured, true)
	worker := runOutbox(t, e.gw)

	// A service with two routes, published to the test's group.
	var tpl gateway.ServiceTemplate
	e.must(t, 201, "POST", "/api/v1/service_templates", map[string]any{
		"name": "shop", "type": "http", "upstream": upstream(upPort),
		"routes": []map[string]any{
			{"name": "orders", "paths": []string{"/orders"}, "methods": []string{"GET"}},
			{"name": "invoices", "paths": []string{"/invoices"}, "methods": []string{"GET"}},
		},
	}, &tpl)
	var svc gateway.PublishedService
	e.must(t, 200, "POST", "/api/v1/service_templates/"+tpl.ID+"/publish", map[string]any{
		"gateway_group_id": e.w.Group.ID, "version": "1.0.0", "service_id": "shop",
	}, &svc)
	routeID := map[string]string{}
	for _, r := range svc.Routes {
		routeID[r.Name] = r.ID
	}
	node.await(t, "/orders", "", 200, "upstream /orders")

	// Both routes on the portal: key auth, manual approval, published.
	apiOf := map[string]catalog.API{}
	for _, name := range []string{"orders", "invoices"} {
		var a catalog.API
		e.must(t, 201, "POST", "/api/v1/portal/apis", map[string]any{
			"gateway_group_id": e.w.Group.ID, "service_id": svc.ID, "route_id": routeID[name],
			"name": "Shop " + name, "openapi": ordersDoc, "auth": "key-auth", "approval": "manual",
		}, &a)
		e.must(t, 200, "POST", "/api/v1/portal/apis/"+a.ID+"/publish", nil, &a)
		apiOf[name] = a
	}
	// With key auth and nobody approved, no call gets through.
	node.await(t, "/orders", "", 401, missingKey)
	node.await(t, "/invoices", "", 401, missingKey)

	// An organization, an application and its key.
	var org orgs.Org
	e.must(t, 201, "POST", "/api/v1/organizations", map[string]any{"name": "acme"}, &org)
	var app apps.Created
	e.must(t, 201, "POST", "/api/v1/organizations/"+org.ID+"/applications", map[string]any{"name": "billing"}, &app)
	key := app.APIKey

	// Subscribe: pending. The application is a consumer on the group from
	// its first request, so the data plane knows its key and refuses it
	// as not subscribed.
	var sub subscriptions.Subscription
	e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": apiOf["orders"].ID}, &sub)
	if sub.Status != "pending" {
		t.Fatalf("subscription = %+v, want pending", sub)
	}
	node.await(t, "/orders", key, 403, forbidden)

	// Approve: the key works.
	e.must(t, 200, "POST", "/api/v1/subscriptions/"+sub.ID+"/approve", nil, &sub)
	if sub.Status != "approved" {
		t.Fatalf("approved = %+v", sub)
	}
	node.await(t, "/orders", key, 200, "upstream /orders")

	// A pending subscription to the second API: the key is known now, and
	// the whitelist refuses it (APISIX consumer-restriction's 403).
	var sub2 subscriptions.Subscription
	e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": apiOf["invoices"].ID}, &sub2)
	node.await(t, "/invoices", key, 403, forbidden)
	e.must(t, 200, "POST", "/api/v1/subscriptions/"+sub2.ID+"/approve", nil, &sub2)
	node.await(t, "/invoices", key, 200, "upstream /invoices")

	// Rotate with an hour's grace: the new key works, the old one still does.
	var rotated struct {
		APIKey string `json:"api_key"`
	}
	e.must(t, 200, "POST", "/api/v1/applications/"+app.ID+"/keys/rotate", map[string]any{"grace_seconds": 3600}, &rotated)
	newKey := rotated.APIKey
	node.await(t, "/orders", newKey, 200, "upstream /orders")
	node.await(t, "/invoices", newKey, 200, "upstream /invoices")
	if status, body := node.get(t, "/orders", key); status != 200 {
		t.Fatalf("old key during the grace period: %d %q, want 200", status, body)
	}
	// The old key's removal waits in the outbox for the grace to end.
	awaitOutbox(t, e, 1)
	if status, _ := node.get(t, "/orders", key); status != 200 {
		t.Fatalf("old key with its removal queued: %d, want 200", status)
	}

	// The grace ends: an hour and a minute later, by the control core's
	// clock (the worker is stopped while the clock changes).
	worker.stop()
	later := func() time.Time { return time.Now().UTC().Add(time.Hour + time.Minute) }
	e.gw.SetClock(later)
	e.w.Apps.WithClock(later)
	worker = runOutbox(t, e.gw)
	node.await(t, "/orders", key, 401, invalidKey)
	node.await(t, "/invoices", key, 401, invalidKey)
	for _, path := range []string{"/orders", "/invoices"} {
		if status, body := node.get(t, path, newKey); status != 200 {
			t.Fatalf("new key on %s after the grace: %d %q, want 200", path, status, body)
		}
	}

	// Revoke: the key stops working for that API, and only for it.
	e.must(t, 200, "POST", "/api/v1/subscriptions/"+sub.ID+"/revoke", map[string]any{"reason": "end of contract"}, &sub)
	if sub.Status != "revoked" {
		t.Fatalf("revoked = %+v", sub)
	}
	node.await(t, "/orders", newKey, 403, forbidden)
	if status, body := node.get(t, "/invoices", newKey); status != 200 {
		t.Fatalf("the other API after the revocation: %d %q, want 200", status, body)
	}
	// Approving the revoked subscription is refused; nothing changes.
	wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+sub.ID+"/approve", nil), 409, "conflict", "")

	// Everything applied, and etcd is what the database says.
	awaitOutbox(t, e, 0)
	var rep gateway.Report
	e.must(t, 200, "GET", "/api/v1/gateway_groups/"+e.w.Group.ID+"/drift", nil, &rep)
	if len(rep.Drift) != 0 {
		t.Fatalf("drift at the end = %+v", rep.Drift)
	}
	node.await(t, "/orders", newKey, 403, forbidden)

	// No key, token or part of one in any log line, though the logs saw the flow.
	all := logs.String()
	if !strings.Contains(all, "/orders") {
		t.Fatalf("the access log did not record the calls:\n%s", all)
	}
	for name, secret := range map[string]string{"first key": key, "rotated key": newKey, "admin token": adminToken} {
		if strings.Contains(all, secret) || strings.Contains(all, secret[len(secret)-12:]) {
			t.Fatalf("the %s appears in the logs", name)
		}
	}
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// awaitOutbox polls GET /api/v1/outbox until it counts want pending changes,
// for at most 10 seconds.
func awaitOutbox(t *testing.T, e *portalEnv, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct {
			Pending int64 `json:"pending"`
		}
		e.must(t, 200, "GET", "/api/v1/outbox", nil, &out)
		if out.Pending == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox has %d pending changes after 10s, want %d", out.Pending, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
