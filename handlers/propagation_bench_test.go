package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/dbtest"
	"devportal/models"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
)

// BenchmarkPropagation measures how long a change takes to be enforced by a
// real data plane node, as a user sees it: from the Admin API call until the
// node answers differently. Each iteration times three changes:
//
//   - approve: approve call → first 200 with the application's key;
//   - revoke: revoke call → first 403 with that key;
//   - publish: publish call of a new service → first 200 on its path.
//
// The outbox worker runs as in production (woken by each change), and a
// background load keeps the node serving another key at a fixed rate
// (PROPAGATION_LOAD_RPS, default 500/s) while another admin client creates,
// subscribes and approves other applications (PROPAGATION_BG_APPROVALS per
// second, default 10). It reports p50, p99 and max per kind; run it with at least
// 200 iterations:
//
//	go test -run '^$' -bench Propagation -benchtime 300x ./handlers/
//
// With DATABASE_URL=postgres://... it runs on PostgreSQL instead of SQLite.
//
// The node is cmd/gateway in a process of its own, as in production: in the
// benchmark's process its garbage collections and the portal's, etcd's and
// the load's would stall one another.
func BenchmarkPropagation(b *testing.B) {
	db := dbtest.SQLite(b)
	if pg, ok := dbtest.Postgres(b); ok {
		db = pg // DATABASE_URL names PostgreSQL: measure on it instead
	}
	e := newPortalEnv(b, db)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	b.Cleanup(up.Close)
	upPort := up.Listener.Addr().(*net.TCPAddr).Port
	svc := e.w.PublishService(b, "bench", "/bench", "127.0.0.1", upPort)
	node := startNodeProcess(b, e.w.Group.Prefix)
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
	newSub := func(name string) (apps.Created, subscriptions.Subscription) {
		var app apps.Created
		adminCall(b, e.app, 201, "POST", "/api/v1/organizations/"+org.ID+"/applications", map[string]any{"name": name}, &app)
		var sub subscriptions.Subscription
		adminCall(b, e.app, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &sub)
		return app, sub
	}

	// Background load: traffic at a fixed rate with an approved key, and a
	// second admin client approving other applications.
	loadApp, loadSub := newSub("load")
	adminCall(b, e.app, 200, "POST", "/api/v1/subscriptions/"+loadSub.ID+"/approve", nil, nil)
	node.await(b, "/bench", loadApp.APIKey, 200, "ok")
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	b.Cleanup(func() { cancel(); bg.Wait() })
	var served, writes atomic.Int64
	rps := envInt("PROPAGATION_LOAD_RPS", 500)
	bgEvery := time.Second / time.Duration(envInt("PROPAGATION_BG_APPROVALS", 10))
	began := time.Now()
	bg.Go(func() { fixedRate(ctx, "http://"+node.addr+"/bench", loadApp.APIKey, rps, &served) })
	bg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			var app apps.Created
			var sub subscriptions.Subscription
			err := errors.Join(
				backgroundCall(e.app, "POST", "/api/v1/organizations/"+org.ID+"/applications", map[string]any{"name": fmt.Sprint("bg-", i)}, &app),
				backgroundCall(e.app, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &sub),
				backgroundCall(e.app, "POST", "/api/v1/subscriptions/"+sub.ID+"/approve", nil, nil))
			if err != nil {
				if ctx.Err() == nil {
					b.Errorf("background approvals: %v", err)
				}
				return
			}
			writes.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(bgEvery):
			}
		}
	})

	// await polls the node until path with key answers status.
	await := func(kind string, i int, start time.Time, path, key string, status int) time.Duration {
		for {
			got, body := node.get(b, path, key)
			if got == status {
				return time.Since(start)
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("%s %d not enforced after 10s: %d %q", kind, i, got, body)
			}
		}
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		app, sub := newSub(fmt.Sprintf("app-%d", i))
		path := fmt.Sprintf("/pub%d", i)
		tpl, err := e.gw.CreateTemplate(e.w.Ctx, models.ServiceSpec{Name: fmt.Sprint("pub-", i), Type: gateway.TypeHTTP,
			Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: upPort, Weight: 1}}},
			Routes:   []models.RouteSpec{{Name: "r", Paths: []string{path}}}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		// Each change is timed to the first different answer, and its Admin
		// API call alone (the "-call" figures): what the portal takes before
		// the outbox, etcd and the node are involved.
		start := time.Now()
		adminCall(b, e.app, 200, "POST", "/api/v1/subscriptions/"+sub.ID+"/approve", nil, nil)
		lat["approve-call"] = append(lat["approve-call"], time.Since(start))
		lat["approve"] = append(lat["approve"], await("approval", i, start, "/bench", app.APIKey, 200))

		start = time.Now()
		adminCall(b, e.app, 200, "POST", "/api/v1/subscriptions/"+sub.ID+"/revoke", map[string]any{"reason": "bench"}, nil)
		lat["revoke-call"] = append(lat["revoke-call"], time.Since(start))
		lat["revoke"] = append(lat["revoke"], await("revocation", i, start, "/bench", app.APIKey, 403))

		start = time.Now()
		adminCall(b, e.app, 200, "POST", "/api/v1/service_templates/"+tpl.ID+"/publish",
			map[string]any{"gateway_group_id": e.w.Group.ID, "version": "1"}, nil)
		lat["publish-call"] = append(lat["publish-call"], time.Since(start))
		lat["publish"] = append(lat["publish"], await("publish", i, start, path, "", 200))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, kind := range []string{"approve", "revoke", "publish", "approve-call", "revoke-call", "publish-call"} {
		l := lat[kind]
		slices.Sort(l)
		b.ReportMetric(ms(l[(len(l)-1)*50/100]), kind+"-p50-ms")
		b.ReportMetric(ms(l[(len(l)-1)*99/100]), kind+"-p99-ms")
		b.ReportMetric(ms(l[len(l)-1]), kind+"-max-ms")
	}
	b.ReportMetric(float64(len(lat["approve"])), "changes-each")
	wall := time.Since(began).Seconds()
	b.ReportMetric(float64(served.Load())/wall, "bg-req/s")
	b.ReportMetric(float64(writes.Load())/wall, "bg-approvals/s")
}

// backgroundCall is adminCall for goroutines other than the benchmark's:
// it returns its error instead of failing there.
func backgroundCall(app *fiber.App, method, path string, body, out any) error {
	status, b, err := adminDo(app, method, path, body)
	if err != nil {
		return err
	}
	if status >= 300 {
		return fmt.Errorf("%s %s = %d %s", method, path, status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// fixedRate sends GET url with key at rps requests a second until ctx ends,
// counting the answers.
func fixedRate(ctx context.Context, url, key string, rps int, served *atomic.Int64) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tick := time.NewTicker(time.Second / time.Duration(max(rps, 1)))
	defer tick.Stop()
	sem := make(chan struct{}, 64) // at most 64 in flight
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the node is behind: drop this tick rather than queue
		}
		go func() {
			defer func() { <-sem }()
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			req.Header.Set("apikey", key)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				served.Add(1)
			}
		}()
	}
}

// startNodeProcess builds cmd/gateway and runs it against the test's etcd
// under prefix until the benchmark ends.
func startNodeProcess(b *testing.B, prefix string) *gatewayNode {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, "devportal/cmd/gateway").CombinedOutput(); err != nil {
		b.Fatalf("building the node: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "--etcd", strings.Join(member.Endpoints(), ","), "--prefix", prefix,
		"--listen", addr, "--metrics-listen", "", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		logs.Close()
	})
	g := &gatewayNode{addr: addr, http: &http.Client{Timeout: 5 * time.Second}}
	for i := 0; ; i++ { // up within 30 s
		if resp, err := g.http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return g
		}
		if i == 300 {
			log, _ := os.ReadFile(logs.Name())
			b.Fatalf("the node did not serve on %s within 30 s:\n%s", addr, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
