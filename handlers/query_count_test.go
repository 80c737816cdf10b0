package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"devportal/internal/dbtest"
	"devportal/internal/seed"
	"devportal/models"
	"devportal/portal/accounts"
	"devportal/portal/gatewaystate"
)

// Sizes of the query-count test: a page must run as many SQL statements on
// the larger as on the smaller, or it has an N+1 (a query per row shown).
var (
	queryCountSmall = seed.Size{Orgs: 2, Developers: 4, Services: 3, RoutesPerSvc: 2, Apps: 10, Subscriptions: 20, Audit: 5}
	queryCountLarge = seed.Size{Orgs: 5, Developers: 30, Services: 25, RoutesPerSvc: 3, Apps: 200, Subscriptions: 2000, Audit: 60}
)

// counter is a gorm logger that counts the statements run while on.
type counter struct {
	logger.Interface
	on    atomic.Bool
	mu    sync.Mutex
	stmts []string
}

func (c *counter) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if !c.on.Load() {
		return
	}
	sql, _ := fc()
	// The session store sweeps expired sessions on a random request: not
	// the page's doing, and not growing with data.
	if strings.HasPrefix(sql, "DELETE") && strings.Contains(sql, "sessions") {
		return
	}
	c.mu.Lock()
	c.stmts = append(c.stmts, sql)
	c.mu.Unlock()
}

func (c *counter) LogMode(logger.LogLevel) logger.Interface { return c }

// measure runs f and returns the statements it ran.
func (c *counter) measure(f func()) []string {
	c.mu.Lock()
	c.stmts = nil
	c.mu.Unlock()
	c.on.Store(true)
	f()
	c.on.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts
}

// queryCounts seeds size on a fresh database and counts the statements of
// every page and Admin API list, by path label.
func queryCounts(t *testing.T, db *gorm.DB, size seed.Size) (map[string]int, map[string][]string) {
	t.Helper()
	e := newWebEnv(t, db)
	if _, err := accounts.New(db).EnsureAdmin(e.Ctx, accounts.Seed{Token: adminToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(e.Ctx, db, e.Gateway, seed.Config{Size: size, GroupID: e.Group.ID, Box: e.Box,
		State: gatewaystate.New(db, e.Apps)}); err != nil {
		t.Fatal(err)
	}
	// The objects each page shows: the most subscribed API, an application
	// of organization 0 (the largest) and that organization.
	var org models.Organization
	var app models.Application
	var api models.PortalAPI
	db.Where("name = ?", seed.OrgName(0)).First(&org)
	db.Where("org_id = ?", org.ID).Order("name").First(&app)
	db.Where("name = ?", "Seed API 0000").First(&api)
	if org.ID == "" || app.ID == "" || api.ID == "" {
		t.Fatal("the seed lacks an organization, application or API")
	}
	// Labels name the objects by role, so that both sizes' counts compare.
	ids := strings.NewReplacer("{api}", api.ID, "{app}", app.ID, "{org}", org.ID, "{group}", e.Group.ID)
	g := "{group}"
	api.ID, app.ID, org.ID = "{api}", "{app}", "{org}"
	pages := []string{
		"/", "/?search=seed", "/apis/" + api.ID,
		"/admin", "/admin/subscriptions", "/admin/subscriptions?status=all", "/admin/subscriptions?status=approved&api=" + api.ID,
		"/admin/subscriptions?status=all&app=" + app.ID,
		"/admin/apis", "/admin/apis/" + api.ID, "/admin/orgs", "/admin/orgs/" + org.ID, "/admin/apps/" + app.ID,
		"/admin/audit", "/admin/groups", "/admin/groups/" + g, "/admin/groups/" + g + "/services",
		"/admin/groups/" + g + "/services/seed-0000", "/admin/templates", "/admin/plugin-templates",
	}
	devPages := []string{"/apps", "/apps/" + app.ID, "/orgs/" + org.ID + "/members", "/apis/" + api.ID}
	apiLists := []string{
		"/api/v1/gateway_groups", "/api/v1/gateway_groups/" + g + "/services", "/api/v1/service_templates", "/api/v1/plugin_templates",
		"/api/v1/portal/apis", "/api/v1/organizations", "/api/v1/organizations/" + org.ID + "/developers",
		"/api/v1/organizations/" + org.ID + "/applications", "/api/v1/subscriptions", "/api/v1/subscriptions?status=pending",
		"/api/v1/subscriptions?api_id=" + api.ID, "/api/v1/audit",
	}
	c := &counter{Interface: db.Logger}
	db.Logger = c
	defer func() { db.Logger = c.Interface }()
	counts, stmts := map[string]int{}, map[string][]string{}
	record := func(label string, run func()) {
		s := c.measure(run)
		counts[label], stmts[label] = len(s), s
	}
	admin := e.adminBrowser(t)
	for _, p := range pages {
		var st int
		record("admin "+p, func() { st = admin.get(ids.Replace(p)).Status })
		if st != http.StatusOK {
			t.Errorf("GET %s as admin: %d", p, st)
		}
	}
	dev := e.browser(t)
	dev.login(seed.DeveloperEmail(0), seed.Password)
	for _, p := range devPages {
		var st int
		record("dev "+p, func() { st = dev.get(ids.Replace(p)).Status })
		if st != http.StatusOK {
			t.Errorf("GET %s as developer: %d", p, st)
		}
	}
	get := func(path string) (int, []byte) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-API-KEY", adminToken)
		resp, err := e.app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, p := range apiLists {
		var st int
		record("api "+p, func() { st, _ = get(ids.Replace(p)) })
		if st != http.StatusOK {
			t.Errorf("GET %s: %d", p, st)
		}
		if strings.HasSuffix(p, "/audit") {
			continue // paged by before_id
		}
		// The page after a cursor: the same statements as the first.
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		_, b := get(ids.Replace(p) + sep + "limit=1")
		var first struct{ Next string }
		json.Unmarshal(b, &first)
		if first.Next == "" {
			continue // one row or none at this size
		}
		record("api "+p+sep+"after=", func() { st, _ = get(ids.Replace(p) + sep + "limit=1&after=" + url.QueryEscape(first.Next)) })
		if st != http.StatusOK {
			t.Errorf("GET %s after a cursor: %d", p, st)
		}
	}
	return counts, stmts
}

// TestQueriesPerPageDoNotGrowWithData fails when a page or an Admin API list
// runs more SQL statements on more data: an N+1.
func TestQueriesPerPageDoNotGrowWithData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, _ *gorm.DB) {
		small, _ := queryCounts(t, freshDB(t), queryCountSmall)
		large, stmts := queryCounts(t, freshDB(t), queryCountLarge)
		labels := make([]string, 0, len(small))
		for l := range small {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		var table strings.Builder
		for _, l := range labels {
			fmt.Fprintf(&table, "%-90s %3d %3d\n", l, small[l], large[l])
			if small[l] != large[l] {
				t.Errorf("%s: %d statements at the small size, %d at the larger:\n%s", l, small[l], large[l], strings.Join(stmts[l], "\n"))
			}
		}
		t.Logf("statements per page (small, larger):\n%s", table.String())
	})
}

// freshDB is a database of the same kind as the subtest's (by its name).
func freshDB(t *testing.T) *gorm.DB {
	t.Helper()
	if strings.HasSuffix(t.Name(), "/postgres") {
		db, _ := dbtest.Postgres(t)
		return db
	}
	return dbtest.SQLite(t)
}
