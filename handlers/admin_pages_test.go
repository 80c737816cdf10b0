package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"devportal/gateway"
	"devportal/internal/dbtest"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
)

const petstore = `openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets:
    get:
      responses:
        "200": {description: ok}
`

// fixture is a world with something on every admin page.
type fixture struct {
	svc   gateway.PublishedService
	api   catalog.API
	dev   portal.Actor
	orgID string
	app   apps.Created
	sub   subscriptions.Subscription
	plug  gateway.PluginTemplate
}

func (e *webEnv) fixture(t *testing.T) fixture {
	t.Helper()
	var f fixture
	var err error
	f.svc = e.PublishService(t, dbtest.Name("pets"), "/pets", "127.0.0.1", 1)
	if f.plug, err = e.Gateway.CreatePluginTemplate(e.Ctx, gateway.PluginTemplateInput{Name: dbtest.Name("cors"),
		Plugins: map[string]any{"cors": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	f.api, err = e.Catalog.Create(e.Ctx, e.Admin, catalog.Input{GatewayGroupID: e.Group.ID, ServiceID: f.svc.ID, RouteID: f.svc.Routes[0].ID,
		Name: dbtest.Name("Pets API"), OpenAPI: petstore, Auth: catalog.AuthKey, Approval: catalog.ApprovalMan})
	if err != nil {
		t.Fatal(err)
	}
	if f.api, err = e.Catalog.Publish(e.Ctx, e.Admin, f.api.ID); err != nil {
		t.Fatal(err)
	}
	f.dev, f.orgID = e.Developer(t, dbtest.Name("dev")+"@example.com")
	if f.app, err = e.Apps.Create(e.Ctx, f.dev, f.orgID, apps.Input{Name: "mobile"}); err != nil {
		t.Fatal(err)
	}
	if f.sub, err = e.Subs.Request(e.Ctx, f.dev, f.app.ID, f.api.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAdminPagesRender(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		f := e.fixture(t)
		b := e.adminBrowser(t)
		svcPath := "/admin/groups/" + e.Group.ID + "/services/" + f.svc.ID
		tests := []struct {
			path   string
			testID string
			want   string // text the element must contain
		}{
			{"/admin", "count-pending", "1"},
			{"/admin", "pending", "mobile"},
			{"/admin/groups", "groups", e.Group.Name},
			{"/admin/groups?search=" + url.QueryEscape(e.Group.Name), "groups", e.Group.Name},
			{"/admin/groups?search=no-such-group", "groups-empty", "No gateway groups match"},
			{"/admin/groups/" + e.Group.ID, "group-services", f.svc.Name},
			{"/admin/groups/" + e.Group.ID, "drift", ""},
			{"/admin/groups/" + e.Group.ID, "nodes-empty", "No data plane node"},
			{"/admin/groups/" + e.Group.ID + "/services", "services", f.svc.Name},
			{svcPath, "route-uris", "/pets"},
			{svcPath, "runtime-form", ""},
			{"/admin/templates", "templates", f.svc.Name},
			{"/admin/templates?search=zzz-nothing", "templates-empty", "No template matches"},
			{"/admin/templates/new", "template-form", ""},
			{"/admin/templates/" + f.svc.TemplateID, "published-on", e.Group.Name},
			{"/admin/templates/" + f.svc.TemplateID, "publish-form", ""},
			{"/admin/plugin-templates", "plugins", f.plug.Name},
			{"/admin/plugin-templates/new", "plugin-form", ""},
			{"/admin/plugin-templates/" + f.plug.ID, "field-plugins", "cors"},
			{"/admin/apis", "apis", f.api.Name},
			{"/admin/apis/new", "api-form", ""},
			{"/admin/apis/" + f.api.ID, "api-name", "published"},
			{"/admin/apis/" + f.api.ID, "field-openapi", "/pets"},
			{"/admin/subscriptions", "sub-" + f.sub.ID, "pending"},
			{"/admin/subscriptions?status=approved", "subscriptions-empty", "No approved subscriptions"},
			{"/admin/subscriptions?status=all&api=" + f.api.ID, "sub-" + f.sub.ID, "mobile"},
			{"/admin/orgs", "orgs", "default"},
			{"/admin/orgs/" + f.orgID, "members", f.dev.Email},
			{"/admin/orgs/" + f.orgID, "apps", "app_" + f.app.ID},
			{"/admin/apps/" + f.app.ID, "key-hint", f.app.Keys[0].Hint},
			{"/admin/apps/" + f.app.ID, "app-subscriptions", "pending"},
			{"/admin/audit", "audit", "api.create"},
		}
		for _, tt := range tests {
			p := b.get(tt.path)
			if p.Status != http.StatusOK {
				t.Errorf("GET %s = %d\n%s", tt.path, p.Status, p.Body)
				continue
			}
			sel := p.TestID(tt.testID)
			if sel.Length() == 0 {
				t.Errorf("GET %s: no [data-testid=%s]", tt.path, tt.testID)
				continue
			}
			if !strings.Contains(sel.Text(), tt.want) && !strings.Contains(p.Body, tt.want) {
				t.Errorf("GET %s: [data-testid=%s] does not contain %q: %q", tt.path, tt.testID, tt.want, sel.Text())
			}
		}
		// The whole key is never on a page.
		for _, path := range []string{"/admin/apps/" + f.app.ID, "/admin/orgs/" + f.orgID, "/admin/audit"} {
			if strings.Contains(b.get(path).Body, f.app.APIKey) {
				t.Fatalf("%s shows the application's key", path)
			}
		}
		// Unknown things answer the HTML 404 page.
		for _, path := range []string{"/admin/groups/nope", "/admin/templates/nope", "/admin/apis/nope", "/admin/apps/nope", "/admin/orgs/nope", svcPath + "x"} {
			if p := b.get(path); p.Status != http.StatusNotFound || p.TestID("error-page").Length() != 1 {
				t.Errorf("GET %s = %d, want the 404 page", path, p.Status)
			}
		}
	})
}

func TestAdminSubscriptionQueue(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		f := e.fixture(t)
		b := e.adminBrowser(t)
		p := b.get("/admin/subscriptions").must(t, http.StatusOK)
		if p.TestID("approve-"+f.sub.ID).Length() != 1 || p.TestID("reject-"+f.sub.ID).Length() != 1 {
			t.Fatalf("no approve / reject on the pending request:\n%s", p.Body)
		}
		back := url.QueryEscape("/admin/subscriptions?status=pending")
		p = b.post("/admin/subscriptions/"+f.sub.ID+"/approve?back="+back, nil).must(t, http.StatusSeeOther)
		if p.Location != "/admin/subscriptions?status=pending" {
			t.Fatalf("back to %q", p.Location)
		}
		if s, _ := e.Subs.Get(e.Ctx, e.Admin, f.sub.ID); s.Status != subscriptions.Approved {
			t.Fatalf("status %s after approve", s.Status)
		}
		p = b.get("/admin/subscriptions?status=pending")
		if p.TestID("flash-success").Length() != 1 || p.TestID("subscriptions-empty").Length() != 1 {
			t.Fatalf("after approve: no flash or the request is still pending:\n%s", p.Body)
		}
		// Approving again is an illegal transition: a flash, not a 500.
		b.post("/admin/subscriptions/"+f.sub.ID+"/approve", nil).must(t, http.StatusSeeOther)
		if b.get("/admin/subscriptions").TestID("flash-error").Length() != 1 {
			t.Fatal("no error flash for a second approval")
		}
		// Revoke with a reason the developer sees.
		b.post("/admin/subscriptions/"+f.sub.ID+"/revoke", url.Values{"reason": {"abuse of the API"}}).must(t, http.StatusSeeOther)
		s, _ := e.Subs.Get(e.Ctx, f.dev, f.sub.ID)
		if s.Status != subscriptions.Revoked || s.Reason != "abuse of the API" {
			t.Fatalf("after revoke: %s %q", s.Status, s.Reason)
		}
		// Reject a new request with a reason.
		again, err := e.Subs.Request(e.Ctx, f.dev, f.app.ID, f.api.ID)
		if err != nil {
			t.Fatal(err)
		}
		b.post("/admin/subscriptions/"+again.ID+"/reject", url.Values{"reason": {"tell us your use case"}}).must(t, http.StatusSeeOther)
		s, _ = e.Subs.Get(e.Ctx, f.dev, again.ID)
		if s.Status != subscriptions.Rejected || s.Reason != "tell us your use case" {
			t.Fatalf("after reject: %s %q", s.Status, s.Reason)
		}
		p = b.get("/admin/subscriptions?status=rejected").must(t, http.StatusOK)
		if !strings.Contains(p.TestID("sub-"+again.ID).Text(), "tell us your use case") {
			t.Fatal("the reason is not shown")
		}
		b.get("/admin/subscriptions?status=bogus").must(t, http.StatusBadRequest)
		b.post("/admin/subscriptions/nope/approve", nil).must(t, http.StatusNotFound)
		// A local back only.
		p = b.post("/admin/subscriptions/"+again.ID+"/approve?back="+url.QueryEscape("https://evil.example/"), nil)
		if p.Location != "/admin/subscriptions" {
			t.Fatalf("back to %q", p.Location)
		}
	})
}

// Changes stuck behind an unreachable etcd are announced on the dashboard,
// with why, and the notice goes once they are applied.
func TestAdminDashboardShowsOutboxBacklog(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		if p := b.get("/admin"); p.TestID("outbox-backlog").Length() != 0 {
			t.Fatal("a backlog notice with nothing waiting")
		}
		stuck := models.OutboxEntry{GroupID: e.Group.ID, Payload: `{"kind":"whitelist.clear","route_id":"r1"}`,
			NotBefore: time.Now().Add(-time.Minute), Attempts: 3, LastError: "etcd: connection refused"}
		if err := e.DB.Create(&stuck).Error; err != nil {
			t.Fatal(err)
		}
		p := b.get("/admin")
		if got := p.TestID("outbox-backlog").Text(); !strings.Contains(got, "1 change is waiting for etcd") || !strings.Contains(got, "connection refused") {
			t.Fatalf("backlog notice = %q", got)
		}
		e.Drain(t)
		if p := b.get("/admin"); p.TestID("outbox-backlog").Length() != 0 {
			t.Fatal("the notice stays once the change is applied")
		}
	})
}
