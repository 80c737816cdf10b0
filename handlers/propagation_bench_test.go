package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"devportal/internal/dbtest"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
)

// BenchmarkApprovalToDataPlane measures how long an approval takes to be
// enforced: from the Admin API's approve call until a real data plane node
// answers 200 to the application's key, with the outbox worker running as
// in production (woken by the approval). Each iteration first creates an
// application and its pending subscription (not timed). It reports the
// p50, p99 and max latency (and the p50 and p99 of the approve call alone, which
// commits the database transaction); run it with at least 200 iterations:
//
//	go test -run '^$' -bench ApprovalToDataPlane -benchtime 300x ./handlers/
//
// With DATABASE_URL=postgres://... it runs on PostgreSQL instead of SQLite.
func BenchmarkApprovalToDataPlane(b *testing.B) {
	db := dbtest.SQLite(b)
	if pg, ok := dbtest.Postgres(b); ok {
		db = pg // DATABASE_URL names PostgreSQL: measure on it instead
	}
	e := newPortalEnv(b, db)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	b.Cleanup(up.Close)
	svc := e.w.PublishService(b, "bench", "/bench", "127.0.0.1", up.Listener.Addr().(*net.TCPAddr).Port)
	node := startNode(b, e.w.Group.Prefix)
	runOutbox(b, e.gw)

	var api catalog.API
	adminCall(b, e.app, 201, "POST", "/api/v1/portal/apis", map[string]any{
		"gateway_group_id": e.w.Group.ID, "service_id": svc.ID, "route_id": svc.Routes[0].ID,
		"name": "bench", "auth": "key-auth", "approval": "manual",
	}, &api)
	adminCall(b, e.app, 200, "POST", "/api/v1/portal/apis/"+api.ID+"/publish", nil, &api)
	node.await(b, "/bench", "", 401, missingKey)
	var org orgs.Org
	adminCall(b, e.app, 201, "POST", "/api/v1/organizations", map[string]any{"name": "bench"}, &org)

	// lat is approve call → 200 at the node; call is the approve call alone.
	lat, call := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var app apps.Created
		adminCall(b, e.app, 201, "POST", "/api/v1/organizations/"+org.ID+"/applications", map[string]any{"name": fmt.Sprintf("app-%d", i)}, &app)
		var sub subscriptions.Subscription
		adminCall(b, e.app, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &sub)
		b.StartTimer()

		start := time.Now()
		adminCall(b, e.app, 200, "POST", "/api/v1/subscriptions/"+sub.ID+"/approve", nil, nil)
		call = append(call, time.Since(start))
		for {
			status, body := node.get(b, "/bench", app.APIKey)
			if status == 200 {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("approval %d not enforced after 10s: %d %q", i, status, body)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(call)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[(len(lat)-1)*50/100]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)-1)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(ms(call[(len(call)-1)*50/100]), "approve-call-p50-ms")
	b.ReportMetric(ms(call[(len(call)-1)*99/100]), "approve-call-p99-ms")
	b.ReportMetric(float64(len(lat)), "approvals")
}
