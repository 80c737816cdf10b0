package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/portal/catalog"
)

// A developer of organization B gets 404 for organization A's application,
// subscription, member and organization IDs on every /apps and /orgs route,
// and nothing of A changes.
func TestSiteOrganizationsAreIsolatedOnEveryRoute(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	api := e.newAPI(t, "Widgets", "/widgets", catalog.AuthKey, catalog.ApprovalAuto, nil, true)
	a := e.developer(t, "192.0.2.20")
	appA := e.newApp(t, a, "a-app")
	subA, err := e.Subs.Request(e.Ctx, a.actor, appA.ID, api.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := e.developer(t, "192.0.2.21")
	b.b.get("/apps").must(t, http.StatusOK)

	checked := 0
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/apps/") && !strings.HasPrefix(r.Path, "/orgs/") {
			continue
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			continue
		}
		path := r.Path
		if strings.HasPrefix(path, "/apps/") {
			path = strings.Replace(path, ":id", appA.ID, 1)
		} else {
			path = strings.Replace(path, ":id", a.orgID, 1)
		}
		path = strings.Replace(path, ":sid", subA.ID, 1)
		path = strings.Replace(path, ":uid", a.actor.UserID, 1)
		if path == r.Path && path != "/orgs/switch" {
			continue // no ID in it
		}
		var p *page
		if r.Method == http.MethodGet {
			p = b.b.get(path)
		} else {
			p = b.b.post(path, url.Values{"org_id": {a.orgID}, "name": {"x"}, "grace": {"0"}, "api_id": {api.ID}, "email": {"x@example.com"}})
		}
		if p.Status != http.StatusNotFound {
			t.Errorf("%s %s as org B: %d, want 404", r.Method, path, p.Status)
		}
		if strings.Contains(p.Body, appA.Name) || strings.Contains(p.Body, appA.Keys[0].Hint) {
			t.Errorf("%s %s shows org A's application", r.Method, path)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("only %d routes checked", checked)
	}
	// Nothing of A changed.
	got, err := e.Apps.Get(e.Ctx, a.actor, appA.ID)
	if err != nil || len(got.Keys) != 1 {
		t.Fatalf("org A's app after B's attempts: %+v %v", got, err)
	}
	if s, _ := e.Subs.Get(e.Ctx, a.actor, subA.ID); s.Status != "approved" {
		t.Fatalf("org A's subscription is %s", s.Status)
	}
	if list := b.b.get("/apps").must(t, http.StatusOK); strings.Contains(list.Body, appA.Name) {
		t.Fatal("org B's list shows org A's application")
	}
	if p := b.b.get("/apis/"+api.ID).must(t, http.StatusOK); strings.Contains(p.Body, appA.Name) {
		t.Fatal("the API page shows org A's application to org B")
	}
}
