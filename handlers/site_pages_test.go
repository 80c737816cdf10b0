package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"devportal/gateway"
	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/internal/listing"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
)

func TestSiteCatalogShowsPublishedAPIsWithPolicies(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	manual := e.newAPI(t, "Widgets", "/widgets", catalog.AuthKey, catalog.ApprovalMan, &gateway.RateLimit{Count: 100, TimeWindow: 60}, true)
	e.newAPI(t, "Open Weather", "/weather", catalog.AuthNone, "", nil, true)
	e.newAPI(t, "Secret Draft", "/draft", catalog.AuthKey, catalog.ApprovalAuto, nil, false)
	b := e.browser(t)

	p := b.get("/").must(t, http.StatusOK)
	if n := p.TestID("api-card").Length(); n != 2 {
		t.Fatalf("%d cards, want 2 (the draft is unpublished)\n%s", n, p.Body)
	}
	if strings.Contains(p.Body, "Secret Draft") {
		t.Fatal("an unpublished API is in the catalog")
	}
	for _, want := range []string{"API key required", "Approval: manual", "100 requests per 60 seconds", "Open: no key needed", "No rate limit"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("catalog lacks %q", want)
		}
	}
	if href, _ := p.TestID("api-link").First().Attr("href"); href != "/apis/"+manual.ID && !strings.HasPrefix(href, "/apis/") {
		t.Errorf("link %q", href)
	}

	p = b.get("/?search=weather").must(t, http.StatusOK)
	if n := p.TestID("api-card").Length(); n != 1 || !strings.Contains(p.Body, "Open Weather") {
		t.Fatalf("search found %d", n)
	}
	p = b.get("/?search=nothing-like-this").must(t, http.StatusOK)
	if p.TestID("catalog-empty").Length() != 1 {
		t.Fatal("no empty state for a search without results")
	}
	// Bad input never makes a 500.
	for _, q := range []string{"/?page=-1", "/?page=abc", "/?search=%25%5F", "/?page=99999999999"} {
		b.get(q).must(t, http.StatusOK)
	}
}

func TestSiteCatalogEmptyState(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	p := e.browser(t).get("/").must(t, http.StatusOK)
	if !strings.Contains(p.TestID("catalog-empty").Text(), "No API is published yet") {
		t.Fatal(p.Body)
	}
}

func TestSiteAPIPageRendersOpenAPI(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{GatewayURL: "http://gw.example:9080"})
	api := e.newAPI(t, "Widgets", "/widgets", catalog.AuthKey, catalog.ApprovalMan, nil, true)
	draft := e.newAPI(t, "Draft", "/draft", catalog.AuthKey, catalog.ApprovalMan, nil, false)
	b := e.browser(t)
	p := b.get("/apis/"+api.ID).must(t, http.StatusOK)
	if got := p.TestID("tag-group").First().Find("h3").Text(); got != "widgets" {
		t.Errorf("first tag group %q", got)
	}
	if n := p.TestID("operation").Length(); n != 3 {
		t.Errorf("%d operations, want 3", n)
	}
	for _, want := range []string{"List widgets", "Make a widget", "Health check", "How many at most", "integer (int32)",
		"name: string *required", "The widget's number", `"sprocket"`, "Bad widget", "Other"} {
		if !strings.Contains(p.Body, want) && !strings.Contains(p.TestID("docs").Text(), want) {
			t.Errorf("API page lacks %q", want)
		}
	}
	curl := p.TestID("curl").Text()
	if !strings.Contains(curl, "http://gw.example:9080/widgets") || !strings.Contains(curl, "apikey: YOUR_API_KEY") {
		t.Errorf("curl line %q", curl)
	}
	if !strings.Contains(p.TestID("subscribe").Text(), "Sign in") {
		t.Error("an anonymous visitor is not asked to sign in to subscribe")
	}
	href, _ := p.TestID("download-openapi").Attr("href")
	if href != "/apis/"+api.ID+"/openapi.yaml" {
		t.Fatalf("download link %q", href)
	}
	raw := b.get(href).must(t, http.StatusOK)
	if strings.TrimSpace(raw.Body) != strings.TrimSpace(siteDoc) || !strings.Contains(raw.Header.Get("Content-Type"), "yaml") {
		t.Fatalf("raw document: %q\n%q", raw.Header.Get("Content-Type"), raw.Body)
	}
	b.get("/apis/"+api.ID+"/openapi.json").must(t, http.StatusSeeOther)
	b.get("/apis/"+api.ID+"/openapi.exe").must(t, http.StatusSeeOther)

	// Unknown and unpublished APIs are not found, as HTML pages.
	for _, path := range []string{"/apis/nope", "/apis/" + draft.ID, "/apis/" + draft.ID + "/openapi.yaml", "/apis/%00"} {
		p := b.get(path)
		if p.Status != http.StatusNotFound {
			t.Errorf("%s: %d", path, p.Status)
		}
	}

	// A signed-in developer sees their applications' key hints in the curl line.
	d := e.developer(t, "192.0.2.10")
	one := e.newApp(t, d, "one")
	e.newApp(t, d, "two")
	p = d.b.get("/apis/"+api.ID+"?app="+one.ID).must(t, http.StatusOK)
	if curl := p.TestID("curl").Text(); !strings.Contains(curl, one.Keys[0].Hint) || strings.Contains(curl, one.APIKey) {
		t.Errorf("curl line %q: want the hint of %q and never the key", curl, one.Name)
	}
	if p.TestID("app-picker").Length() != 1 || p.TestID("subscribe-form").Length() != 1 {
		t.Error("no application picker or subscribe form")
	}
}

func TestSiteSubscribeFromAPIPage(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	manual := e.newAPI(t, "Widgets", "/widgets", catalog.AuthKey, catalog.ApprovalMan, nil, true)
	auto := e.newAPI(t, "Gadgets", "/gadgets", catalog.AuthKey, catalog.ApprovalAuto, nil, true)
	d := e.developer(t, "192.0.2.11")
	app := e.newApp(t, d, "mobile")

	d.b.get("/apis/" + manual.ID)
	p := d.b.post("/apis/"+manual.ID+"/subscribe", url.Values{"app_id": {app.ID}}).must(t, http.StatusSeeOther)
	if p.Location != "/apps/"+app.ID {
		t.Fatalf("to %q", p.Location)
	}
	p = d.b.get(p.Location).must(t, http.StatusOK)
	if !strings.Contains(p.TestID("flash-info").Text(), "pending") {
		t.Errorf("flash %q", p.TestID("flash-info").Text())
	}
	d.b.post("/apis/"+auto.ID+"/subscribe", url.Values{"app_id": {app.ID}}).must(t, http.StatusSeeOther)
	p = d.b.get("/apps/"+app.ID).must(t, http.StatusOK)
	states := map[string]string{}
	p.TestID("sub-row").Each(func(_ int, s *goquerySelection) {
		st, _ := s.Attr("data-status")
		states[strings.TrimSpace(s.Find("td a").First().Text())] = st
	})
	if states["Widgets"] != "pending" || states["Gadgets"] != "approved" {
		t.Fatalf("states %v", states)
	}
	// Twice: a message, not a 500.
	p = d.b.post("/apis/"+manual.ID+"/subscribe", url.Values{"app_id": {app.ID}}).must(t, http.StatusSeeOther)
	p = d.b.get("/apis/" + manual.ID)
	if p.TestID("flash-error").Length() == 0 {
		t.Error("no error for a second request")
	}
	// No application chosen, or another's.
	d.b.post("/apis/"+manual.ID+"/subscribe", url.Values{"app_id": {""}}).must(t, http.StatusSeeOther)
	d.b.post("/apis/"+manual.ID+"/subscribe", url.Values{"app_id": {"not-an-app"}}).must(t, http.StatusNotFound)
	// Anonymous: to the sign-in page.
	anon := e.browser(t)
	anon.get("/")
	if p := anon.post("/apis/"+manual.ID+"/subscribe", url.Values{"app_id": {app.ID}}); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("anonymous subscribe: %d %q", p.Status, p.Location)
	}
}

func TestSiteApplicationsLifecycle(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	manual := e.newAPI(t, "Widgets", "/widgets", catalog.AuthKey, catalog.ApprovalMan, nil, true)
	d := e.developer(t, "192.0.2.12")

	p := d.b.get("/apps").must(t, http.StatusOK)
	if !strings.Contains(p.TestID("apps-empty").Text(), "create one to get an API key") {
		t.Fatalf("empty state: %q", p.TestID("apps-empty").Text())
	}
	// Bad input: beside the field.
	p = d.b.post("/apps", url.Values{"name": {""}}).must(t, http.StatusUnprocessableEntity)
	if p.TestID("error-name").Length() != 1 {
		t.Fatalf("no error beside the name\n%s", p.Body)
	}
	p = d.b.post("/apps", url.Values{"name": {strings.Repeat("x", 500)}}).must(t, http.StatusUnprocessableEntity)

	p = d.b.post("/apps", url.Values{"name": {"mobile"}, "description": {"the phone app"}}).must(t, http.StatusCreated)
	key := strings.TrimSpace(p.TestID("new-key").Text())
	if len(key) < 20 {
		t.Fatalf("key %q", key)
	}
	href, _ := p.TestID("continue").Attr("href")
	appID := strings.TrimPrefix(href, "/apps/")
	p = d.b.get(href).must(t, http.StatusOK)
	if strings.Contains(p.Body, key) {
		t.Fatal("the application page shows the whole key again")
	}
	if p.TestID("key-row").Length() != 1 || !strings.Contains(p.TestID("consumer").Text(), "app_"+appID) {
		t.Fatalf("keys or consumer missing\n%s", p.Body)
	}
	if !strings.Contains(p.TestID("subs-empty").Text(), "No subscriptions yet") {
		t.Error("no empty state for subscriptions")
	}
	if list := d.b.get("/apps").must(t, http.StatusOK); list.TestID("app-row").Length() != 1 || strings.Contains(list.Body, key) {
		t.Error("the list lacks the app or shows its key")
	}

	// Request a subscription; bad picks are beside the field.
	d.b.post("/apps/"+appID+"/subscriptions", url.Values{"api_id": {""}}).must(t, http.StatusUnprocessableEntity)
	p = d.b.post("/apps/"+appID+"/subscriptions", url.Values{"api_id": {"nope"}})
	if p.Status != http.StatusNotFound && p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown API: %d", p.Status)
	}
	d.b.post("/apps/"+appID+"/subscriptions", url.Values{"api_id": {manual.ID}}).must(t, http.StatusSeeOther)
	subs, err := e.Subs.List(e.Ctx, d.actor, subscriptions.Filter{AppID: appID}, listingAll)
	if err != nil || len(subs.List) != 1 || subs.List[0].Status != subscriptions.Pending {
		t.Fatalf("subscriptions %+v %v", subs.List, err)
	}
	// The admin rejects with a reason: the developer reads it.
	if _, err := e.Subs.Reject(e.Ctx, e.Admin, subs.List[0].ID, "Tell us what you build first"); err != nil {
		t.Fatal(err)
	}
	p = d.b.get("/apps/"+appID).must(t, http.StatusOK)
	if !strings.Contains(p.TestID("sub-reason").Text(), "Tell us what you build first") {
		t.Fatalf("reason not shown\n%s", p.TestID("subscriptions").Text())
	}
	// Again, approved, then cancelled.
	d.b.post("/apps/"+appID+"/subscriptions", url.Values{"api_id": {manual.ID}}).must(t, http.StatusSeeOther)
	subs, _ = e.Subs.List(e.Ctx, d.actor, subscriptions.Filter{AppID: appID, Status: subscriptions.Pending}, listingAll)
	if len(subs.List) != 1 {
		t.Fatalf("pending %d", len(subs.List))
	}
	if _, err := e.Subs.Approve(e.Ctx, e.Admin, subs.List[0].ID); err != nil {
		t.Fatal(err)
	}
	d.b.post("/apps/"+appID+"/subscriptions/"+subs.List[0].ID+"/cancel", nil).must(t, http.StatusSeeOther)
	if s, _ := e.Subs.Get(e.Ctx, d.actor, subs.List[0].ID); s.Status != subscriptions.Cancelled {
		t.Fatalf("status %q", s.Status)
	}
	d.b.post("/apps/"+appID+"/subscriptions/"+subs.List[0].ID+"/cancel", nil).must(t, http.StatusSeeOther) // twice: a message
	d.b.post("/apps/"+appID+"/subscriptions/nope/cancel", nil).must(t, http.StatusNotFound)

	// Rotate: bad grace, then with a grace of one hour: two keys.
	d.b.post("/apps/"+appID+"/rotate", url.Values{"grace": {"-5"}}).must(t, http.StatusSeeOther)
	p = d.b.post("/apps/"+appID+"/rotate", url.Values{"grace": {"3600"}}).must(t, http.StatusOK)
	newKey := strings.TrimSpace(p.TestID("new-key").Text())
	if newKey == key || len(newKey) < 20 {
		t.Fatalf("new key %q", newKey)
	}
	if p = d.b.get("/apps/"+appID).must(t, http.StatusOK); p.TestID("key-row").Length() != 2 {
		t.Fatalf("%d keys after a rotation with grace", p.TestID("key-row").Length())
	}

	// Delete.
	d.b.post("/apps/"+appID+"/delete", nil).must(t, http.StatusSeeOther)
	d.b.get("/apps/"+appID).must(t, http.StatusNotFound)
}

func TestSiteAppsNeedSignInAndCSRF(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	anon := e.browser(t)
	for _, path := range []string{"/apps", "/apps/x", "/orgs/x/members"} {
		p := anon.get(path)
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=") {
			t.Errorf("anonymous %s: %d %q", path, p.Status, p.Location)
		}
	}
	d := e.developer(t, "192.0.2.13")
	app := e.newApp(t, d, "mobile")
	for _, path := range []string{"/apps", "/apps/" + app.ID + "/delete", "/apps/" + app.ID + "/rotate", "/signup", "/orgs/switch"} {
		p := d.b.post(path, url.Values{"_csrf": {"forged"}, "name": {"x"}})
		if p.Status != http.StatusForbidden {
			t.Errorf("forged token on %s: %d", path, p.Status)
		}
		p = d.b.do(http.MethodPost, path, url.Values{"name": {"x"}})
		if p.Status != http.StatusForbidden {
			t.Errorf("no token on %s: %d", path, p.Status)
		}
	}
	if _, err := e.Apps.Get(e.Ctx, d.actor, app.ID); err != nil {
		t.Fatal("a refused form changed something:", err)
	}
}

type goquerySelection = goquery.Selection

var listingAll = listing.Options{Limit: 100}

// An API whose service was deleted on the gateway stays listed, marked
// unavailable, on the catalog and its page.
func TestSiteUnavailableAPIIsMarked(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	api := e.newAPI(t, "Gone", "/gone", catalog.AuthNone, "", nil, true)
	if _, err := e.Gateway.DeleteService(e.Ctx, e.Group.ID, api.ServiceID); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	if p := b.get("/").must(t, http.StatusOK); !strings.Contains(p.TestID("api-card").Text(), "Unavailable") {
		t.Fatalf("catalog card: %q", p.TestID("api-card").Text())
	}
	if p := b.get("/apis/"+api.ID).must(t, http.StatusOK); p.TestID("unavailable").Length() != 1 {
		t.Fatal("the API page does not say it is unavailable")
	}
}
