package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"gorm.io/gorm"

	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/internal/portaltest"
	"devportal/portal/accounts"
	"devportal/portal/audit"
	"devportal/portal/gatewaystate"
)

// portalEnv is the whole Admin API, portal included, on a portaltest World:
// a fresh database, the package's etcd member and a gateway group of the
// test's own (w.Group). The admin token belongs to w.Admin.
type portalEnv struct {
	*env
	w *portaltest.World
}

func newPortalEnv(t testing.TB, db *gorm.DB) *portalEnv {
	t.Helper()
	w := portaltest.New(t, db, member)
	if _, err := w.Accounts.EnsureAdmin(w.Ctx, accounts.Seed{Token: adminToken}); err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	app := handlers.New(handlers.Config{
		Gateway:       w.Gateway,
		Accounts:      w.Accounts,
		Orgs:          w.Orgs,
		Apps:          w.Apps,
		Catalog:       w.Catalog,
		Subscriptions: w.Subs,
		Audit:         audit.New(db),
		State:         gatewaystate.New(db, w.Apps),
		PingDB:        sqlDB.PingContext,
	})
	return &portalEnv{env: &env{app: app, gw: w.Gateway, db: db, cli: member.Client(t)}, w: w}
}

// eachPortal runs f on SQLite, and on PostgreSQL when DATABASE_URL is set.
func eachPortal(t *testing.T, f func(t *testing.T, e *portalEnv)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, newPortalEnv(t, db)) })
}

// adminCall is env.call for benchmarks too: an authenticated JSON request
// through the app, failing unless the status is want; it decodes into out.
func adminCall(tb testing.TB, app *fiber.App, want int, method, path string, body, out any) {
	tb.Helper()
	status, b, err := adminDo(app, method, path, body)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		tb.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: answer is not JSON (%v): %s", method, path, err, b)
		}
	}
}

// adminDo sends an authenticated JSON request through the app and returns
// its status and body; it fails nothing, so any goroutine may call it.
func adminDo(app *fiber.App, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set(handlers.APIKeyHeader, adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := app.Test(req, fiber.TestConfig{Timeout: 30 * time.Second})
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// wantError checks an answer's status and error code, and, when field is
// set, that the error names that field.
func wantError(t *testing.T, r response, status int, code, field string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("answer = %d %s, want %d", r.Status, r.Body, status)
	}
	got, _, fields := r.Error(t)
	if got != code {
		t.Fatalf("error code = %q (%s), want %q", got, r.Body, code)
	}
	if field != "" && fields[field] == "" {
		t.Fatalf("error fields = %v, want one for %q", fields, field)
	}
}

// Without the portal's services configured, its routes answer 503, not 500.
func TestPortalRoutesWithoutPortal(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	r := e.call(t, "GET", "/api/v1/organizations", nil)
	wantError(t, r, http.StatusServiceUnavailable, "unavailable", "")
}
