package handlers_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
)

// fuzzTarget is one Admin API endpoint that takes a body, its path with
// the fixture IDs filled in.
type fuzzTarget struct{ method, path string }

// fuzzFixture is a portal with one of everything the endpoints refer to.
type fuzzFixture struct {
	e       *portalEnv
	targets []fuzzTarget
}

func newFuzzFixture(tb testing.TB, db *gorm.DB) *fuzzFixture {
	tb.Helper()
	e := newPortalEnv(tb, db)
	svc := e.w.PublishService(tb, dbtest.Name("svc"), "/fz", "127.0.0.1", 8090)
	var pt gateway.PluginTemplate
	adminCall(tb, e.app, 201, "POST", "/api/v1/plugin_templates", map[string]any{"name": dbtest.Name("pt"), "plugins": map[string]any{"cors": map[string]any{}}}, &pt)
	var api catalog.API
	adminCall(tb, e.app, 201, "POST", "/api/v1/portal/apis", map[string]any{
		"gateway_group_id": e.w.Group.ID, "service_id": svc.ID, "route_id": svc.Routes[0].ID,
		"name": dbtest.Name("api"), "auth": "key-auth", "approval": "manual"}, &api)
	adminCall(tb, e.app, 200, "POST", "/api/v1/portal/apis/"+api.ID+"/publish", nil, nil)
	var org struct{ ID string }
	adminCall(tb, e.app, 201, "POST", "/api/v1/organizations", map[string]any{"name": dbtest.Name("org")}, &org)
	var app apps.Created
	adminCall(tb, e.app, 201, "POST", "/api/v1/organizations/"+org.ID+"/applications", map[string]any{"name": dbtest.Name("app")}, &app)
	var sub subscriptions.Subscription
	adminCall(tb, e.app, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &sub)

	g, s, tid := e.w.Group.ID, svc.ID, svc.TemplateID
	return &fuzzFixture{e: e, targets: []fuzzTarget{
		{"POST", "/api/v1/gateway_groups"},
		{"POST", "/api/v1/gateway_groups/" + g + "/services"},
		{"PUT", "/api/v1/gateway_groups/" + g + "/services/" + s},
		{"PUT", "/api/v1/gateway_groups/" + g + "/services/" + s + "/runtime"},
		{"POST", "/api/v1/gateway_groups/" + g + "/services/" + s + "/rollback"},
		{"POST", "/api/v1/service_templates"},
		{"PUT", "/api/v1/service_templates/" + tid},
		{"POST", "/api/v1/service_templates/" + tid + "/publish"},
		{"POST", "/api/v1/plugin_templates"},
		{"PUT", "/api/v1/plugin_templates/" + pt.ID},
		{"POST", "/api/v1/portal/apis"},
		{"PUT", "/api/v1/portal/apis/" + api.ID},
		{"POST", "/api/v1/organizations"},
		{"POST", "/api/v1/organizations/" + org.ID + "/developers"},
		{"POST", "/api/v1/organizations/" + org.ID + "/applications"},
		{"POST", "/api/v1/applications/" + app.ID + "/keys/rotate"},
		{"POST", "/api/v1/subscriptions"},
		{"POST", "/api/v1/subscriptions/" + sub.ID + "/reject"},
		{"POST", "/api/v1/subscriptions/" + sub.ID + "/revoke"},
	}}
}

// rowCounts counts the rows of every table.
func rowCounts(tb testing.TB, db *gorm.DB) map[string]int64 {
	tb.Helper()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]int64, len(tables))
	for _, name := range tables {
		var n int64
		if err := db.Table(name).Count(&n).Error; err != nil {
			tb.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

func diffCounts(a, b map[string]int64) string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s %d -> %d", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s new with %d", k, v))
		}
	}
	return strings.Join(out, ", ")
}

var fuzzContentTypes = []string{"application/json", "application/json; charset=utf-8", "", "text/plain", "application/merge-patch+json", "application/json; charset"}

// FuzzAdminAPI: any body sent to any Admin API endpoint that takes one,
// through the real app on a real database and etcd, answers below 500; a
// 4xx answer is JSON with an error code and message and writes no row.
// Run: go test ./handlers -run '^$' -fuzz FuzzAdminAPI -fuzztime 60s
func FuzzAdminAPI(f *testing.F) {
	fx := newFuzzFixture(f, dbtest.SQLite(f))
	seeds := []string{
		`{"name":"g1","prefix":"/g1"}`,
		`{"name":"s","type":"http","upstream":{"nodes":[{"host":"h","port":1,"weight":1}]},"routes":[{"name":"r","paths":["/a"]}]}`,
		`{"gateway_group_id":"default","version":"1.0.0"}`,
		`{"upstream":{"nodes":[{"host":"h","port":1}]},"hosts":["a.com"],"path_prefix":"/p","strip_path_prefix":true}`,
		`{"version":"1"}`,
		`{"name":"p","plugins":{"cors":{}}}`,
		`{"gateway_group_id":"x","service_id":"y","route_id":"z","name":"n","auth":"key-auth","approval":"manual","rate_limit":{"count":1,"time_window":1},"openapi":"openapi: [3"}`,
		`{"name":"o"}`,
		`{"email":"a@b.c","password":"pass-word-1","role":"admin"}`,
		`{"grace_period":"1h"}`,
		`{"application_id":"a","api_id":"b"}`,
		`{"reason":"no"}`,
		`[]`, `null`, `{"name":"a","name":"b"}`, `{"routes":[{"paths":[1]}]}`, "{\"name\":\"\xff\"}", `{}{}`, `1e999`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(0), s)
	}
	f.Add(uint8(2), uint8(3), `{"name":"x"}`)
	fixtures := []*fuzzFixture{fx}
	if db, ok := dbtest.Postgres(f); ok {
		fixtures = append(fixtures, newFuzzFixture(f, db))
	}
	f.Fuzz(func(t *testing.T, target, ct uint8, body string) {
		for _, fx := range fixtures {
			tg := fx.targets[int(target)%len(fx.targets)]
			before := rowCounts(t, fx.e.db)
			req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
			req.Header.Set(handlers.APIKeyHeader, adminToken)
			if c := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]; c != "" {
				req.Header.Set("Content-Type", c)
			}
			resp, err := fx.e.app.Test(req, fiber.TestConfig{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatalf("%s %s: %v", tg.method, tg.path, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
			if r.Status >= 500 {
				t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, body, r.Status, b)
			}
			if r.Status >= 400 {
				r.Error(t) // JSON with a code and a message
				if d := diffCounts(before, rowCounts(t, fx.e.db)); d != "" {
					t.Fatalf("%s %s %q refused with %d %s but wrote rows: %s", tg.method, tg.path, body, r.Status, b, d)
				}
			}
		}
	})
}
