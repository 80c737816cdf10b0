package handlers_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v3"
	"github.com/oauth2-proxy/mockoidc"

	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/portal/orgs"
)

func TestSiteSignup(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	b := e.browser(t)
	p := b.get("/signup").must(t, http.StatusOK)
	if p.TestID("providers").Length() != 0 {
		t.Error("provider buttons without configured providers")
	}
	if b.get("/login").TestID("signup-link").Length() != 1 {
		t.Error("the sign-in page does not link to sign-up")
	}
	cases := []struct {
		name   string
		form   url.Values
		fields []string
	}{
		{"empty", url.Values{}, []string{"email", "password"}},
		{"bad e-mail, short password", url.Values{"email": {"not-an-email"}, "password": {"short"}}, []string{"email", "password"}},
		{"password without a digit", url.Values{"email": {"ok@example.com"}, "password": {"onlyletters"}}, []string{"password"}},
		{"taken e-mail", url.Values{"email": {e.Admin.Email}, "password": {"long-enough-1"}}, []string{"email"}},
	}
	for _, c := range cases {
		p := b.post("/signup", c.form).must(t, http.StatusUnprocessableEntity)
		for _, f := range c.fields {
			if p.TestID("error-"+f).Length() != 1 {
				t.Errorf("%s: no error beside %s\n%s", c.name, f, p.TestID("signup-form").Text())
			}
		}
		if v, _ := p.Find(`input[name="password"]`).Attr("value"); v != "" {
			t.Errorf("%s: the password is sent back", c.name)
		}
	}
	email := dbtest.Name("new") + "@example.com"
	p = b.post("/signup", url.Values{"email": {email}, "name": {"New Person"}, "password": {"good-pass-123"}}).must(t, http.StatusSeeOther)
	if p.Location != "/apps" {
		t.Fatalf("to %q", p.Location)
	}
	p = b.get("/apps").must(t, http.StatusOK)
	if !strings.Contains(p.TestID("current-user").Text(), "New Person") || p.TestID("apps-empty").Length() != 1 {
		t.Fatalf("after sign-up\n%s", p.Body)
	}
	// Signed in: /signup goes to the applications.
	b.get("/signup").must(t, http.StatusSeeOther)
}

func TestSiteTryIt(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	// The gateway here is the upstream itself: try-it's own checks are what is tested.
	e2 := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{GatewayURL: e.up.URL})
	api := e2.newAPI(t, "Widgets", "/widgets", "key-auth", "auto", nil, true)
	b := e2.browser(t)
	b.get("/apis/"+api.ID).must(t, http.StatusOK)
	p := b.post("/apis/"+api.ID+"/try", url.Values{"method": {"POST"}, "path": {"/widgets?x=1"}, "apikey": {"secret-key"},
		"headers": {"X-Test: 1"}, "body": {`{"name":"sprocket"}`}}).must(t, http.StatusOK)
	if got := p.TestID("tryit-status").Text(); got != "200" {
		t.Fatalf("status %q\n%s", got, p.TestID("tryit").Text())
	}
	if body := p.TestID("tryit-body").Text(); body != "upstream POST /widgets key=secret-key" {
		t.Fatalf("body %q", body)
	}
	if !strings.Contains(p.TestID("tryit-result").Text(), "X-Upstream") {
		t.Error("response headers not shown")
	}
	// Bad input: not sent, a message, never a 500.
	for _, form := range []url.Values{
		{"method": {"GET"}, "path": {"/elsewhere"}},
		{"method": {"BREW"}, "path": {"/widgets"}},
		{"method": {"GET"}, "path": {"http://evil.example/"}},
		{"method": {"GET"}, "path": {"/widgets"}, "headers": {"Host: evil"}},
		{"method": {"GET"}, "path": {"/widgets/../../etc"}},
	} {
		p := b.post("/apis/"+api.ID+"/try", form).must(t, http.StatusUnprocessableEntity)
		if p.TestID("tryit-error").Length() != 1 || p.TestID("tryit-result").Length() != 0 {
			t.Errorf("%v: no error shown", form)
		}
	}
	// The gateway down: a message.
	e3 := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{GatewayURL: "http://127.0.0.1:1"})
	api3 := e3.newAPI(t, "Widgets", "/widgets", "none", "", nil, true)
	b3 := e3.browser(t)
	b3.get("/")
	if p := b3.post("/apis/"+api3.ID+"/try", url.Values{"method": {"GET"}, "path": {"/widgets"}}).must(t, http.StatusOK); !strings.Contains(p.TestID("tryit-error").Text(), "did not answer") {
		t.Fatalf("gateway down: %q", p.TestID("tryit-error").Text())
	}
}

func TestSiteMembersAndOrganizationSwitch(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{})
	a := e.developer(t, "192.0.2.30")
	p := a.b.get("/apps").must(t, http.StatusOK)
	if href, _ := p.TestID("members-link").Attr("href"); href != "/orgs/"+a.orgID+"/members" {
		t.Fatalf("members link %q", href)
	}
	p = a.b.get("/orgs/"+a.orgID+"/members").must(t, http.StatusOK)
	if p.TestID("member-row").Length() != 1 {
		t.Fatalf("%d members", p.TestID("member-row").Length())
	}
	// Invite: bad e-mail beside the field, an existing account joins, a new one is invited.
	p = a.b.post("/orgs/"+a.orgID+"/members", url.Values{"email": {"nope"}, "role": {"member"}}).must(t, http.StatusUnprocessableEntity)
	if p.TestID("error-email").Length() != 1 {
		t.Fatal("no error beside the e-mail")
	}
	a.b.post("/orgs/"+a.orgID+"/members", url.Values{"email": {"x@example.com"}, "role": {"owner"}}).must(t, http.StatusUnprocessableEntity)
	other := e.developer(t, "192.0.2.31")
	a.b.post("/orgs/"+a.orgID+"/members", url.Values{"email": {other.email}, "role": {"member"}}).must(t, http.StatusSeeOther)
	a.b.post("/orgs/"+a.orgID+"/members", url.Values{"email": {"later@example.com"}, "role": {"member"}}).must(t, http.StatusSeeOther)
	p = a.b.get("/orgs/"+a.orgID+"/members").must(t, http.StatusOK)
	if p.TestID("member-row").Length() != 2 || !strings.Contains(p.TestID("invitations").Text(), "later@example.com") {
		t.Fatalf("members %d, invitations %q", p.TestID("member-row").Length(), p.TestID("invitations").Text())
	}

	// The invited developer is in two organizations now: the switcher.
	appA := e.newApp(t, a, "team-app")
	p = other.b.get("/apps").must(t, http.StatusOK)
	if p.TestID("org-switch").Length() != 1 {
		t.Fatalf("no organization switcher\n%s", p.Body)
	}
	other.b.post("/orgs/switch", url.Values{"org_id": {a.orgID}}).must(t, http.StatusSeeOther)
	p = other.b.get("/apps").must(t, http.StatusOK)
	if !strings.Contains(p.Body, appA.Name) {
		t.Fatal("after switching, the organization's application is not listed")
	}
	// A plain member cannot manage members.
	other.b.get("/orgs/"+a.orgID+"/members").must(t, http.StatusForbidden)
	other.b.post("/orgs/"+a.orgID+"/members", url.Values{"email": {"y@example.com"}}).must(t, http.StatusForbidden)
	// Removed: the organization and its application are gone for them.
	a.b.post("/orgs/"+a.orgID+"/members/"+other.actor.UserID+"/remove", nil).must(t, http.StatusSeeOther)
	p = other.b.get("/apps").must(t, http.StatusOK)
	if strings.Contains(p.Body, appA.Name) {
		t.Fatal("a removed member still sees the organization's application")
	}
	other.b.get("/apps/"+appA.ID).must(t, http.StatusNotFound)
	other.b.post("/orgs/switch", url.Values{"org_id": {"nope"}}).must(t, http.StatusNotFound)
	_ = orgs.RoleAdmin
}

// The whole OpenID Connect dance against a local provider, with a real
// HTTP client and a cookie jar: /auth/oidc → the provider → the callback →
// signed in. An unverified e-mail is refused with a clear message.
func TestSiteOIDCSignIn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := m.Config()
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{BaseURL: base,
		OIDC: handlers.OAuthProvider{Issuer: m.Issuer(), ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Name: "Acme SSO"}})
	go func() { _ = e.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = e.app.Shutdown() })

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) (*http.Response, *goquery.Document) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
		return resp, doc
	}
	_, doc := get("/login")
	if doc.Find(`[data-testid="provider-oidc"]`).Text() != "Sign in with Acme SSO" {
		t.Fatalf("no OIDC button on /login")
	}

	// An account with a password exists: the verified e-mail links to it.
	email := dbtest.Name("sso") + "@example.com"
	if _, err := e.Orgs.AddDeveloper(e.Ctx, e.Admin, orgs.DefaultID, orgs.DeveloperInput{Email: email, Password: devPassword}); err != nil {
		t.Fatal(err)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-1", Email: email, EmailVerified: true})
	resp, doc := get("/auth/oidc")
	if resp.Request.URL.Path != "/apps" {
		t.Fatalf("ended at %s (%d)\n%s", resp.Request.URL, resp.StatusCode, doc.Text())
	}
	if got := doc.Find(`[data-testid="current-user"]`).Text(); got != email {
		t.Fatalf("signed in as %q, want %q", got, email)
	}

	// An unverified e-mail of an existing account: refused, with a clear
	// message, not signed in (nobody takes over an account by its e-mail).
	jar2, _ := cookiejar.New(nil)
	client.Jar = jar2
	victim := dbtest.Name("victim") + "@example.com"
	if _, err := e.Orgs.AddDeveloper(e.Ctx, e.Admin, orgs.DefaultID, orgs.DeveloperInput{Email: victim, Password: devPassword}); err != nil {
		t.Fatal(err)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-2", Email: victim, EmailVerified: false})
	resp, doc = get("/auth/oidc")
	if resp.Request.URL.Path != "/login" || !strings.Contains(doc.Find(`[data-testid="flash-error"]`).Text(), "has not verified") {
		t.Fatalf("unverified: at %s, flash %q", resp.Request.URL, doc.Find(`[data-testid="flash-error"]`).Text())
	}
	if doc.Find(`[data-testid="current-user"]`).Length() != 0 {
		t.Fatal("signed in with an unverified e-mail")
	}

	// A new e-mail: a new account, signed in.
	jar3, _ := cookiejar.New(nil)
	client.Jar = jar3
	fresh := dbtest.Name("fresh") + "@example.com"
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-3", Email: fresh, EmailVerified: true})
	if resp, doc = get("/auth/oidc"); resp.Request.URL.Path != "/apps" || doc.Find(`[data-testid="current-user"]`).Text() != fresh {
		t.Fatalf("new account: at %s", resp.Request.URL)
	}

	// A callback that did not start here is refused.
	jar4, _ := cookiejar.New(nil)
	client.Jar = jar4
	resp, doc = get("/auth/oidc/callback?state=forged&code=x")
	if resp.Request.URL.Path != "/login" || !strings.Contains(doc.Find(`[data-testid="flash-error"]`).Text(), "expired") {
		t.Fatalf("forged callback: at %s", resp.Request.URL)
	}
	// Unknown or unconfigured providers: 404.
	if resp, _ := get("/auth/github"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unconfigured github: %d", resp.StatusCode)
	}
}

// Try-it and sign-up are limited per client address: past the limit, 429.
func TestSiteOpenFormsAreLimited(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{GatewayURL: "http://127.0.0.1:1"})
	api := e.newAPI(t, "Widgets", "/widgets", "none", "", nil, true)
	b := e.browser(t)
	b.get("/")
	status := 0
	for i := 0; i < 61 && status != http.StatusTooManyRequests; i++ {
		status = b.post("/apis/"+api.ID+"/try", url.Values{"method": {"GET"}, "path": {"/elsewhere"}}).Status
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("try-it after 61 calls: %d", status)
	}
	status = 0
	for i := 0; i < 21 && status != http.StatusTooManyRequests; i++ {
		status = b.post("/signup", url.Values{"email": {"bad"}}).Status
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("sign-up after 21 attempts: %d", status)
	}
}

// GitHub, when configured: its button, and /auth/github sends the browser
// to GitHub with our callback and a state kept in the session. An OIDC
// issuer that does not answer is a 503 page, not a 500.
func TestSiteGitHubAndUnreachableIssuer(t *testing.T) {
	e := newSiteEnv(t, dbtest.SQLite(t), handlers.SiteConfig{BaseURL: "https://portal.example",
		GitHub: handlers.OAuthProvider{ClientID: "gh-client", ClientSecret: "gh-secret"},
		OIDC:   handlers.OAuthProvider{Issuer: "http://127.0.0.1:1/realms/x", ClientID: "c", ClientSecret: "s"}})
	b := e.browser(t)
	for _, path := range []string{"/login", "/signup"} {
		p := b.get(path).must(t, http.StatusOK)
		if p.TestID("provider-github").Text() != "Sign in with GitHub" || p.TestID("provider-oidc").Length() != 1 {
			t.Errorf("%s: provider buttons %q", path, p.TestID("providers").Text())
		}
	}
	p := b.get("/auth/github").must(t, http.StatusSeeOther)
	u, err := url.Parse(p.Location)
	if err != nil || u.Host != "github.com" {
		t.Fatalf("to %q", p.Location)
	}
	q := u.Query()
	if q.Get("client_id") != "gh-client" || q.Get("redirect_uri") != "https://portal.example/auth/github/callback" || len(q.Get("state")) < 20 {
		t.Fatalf("authorize URL %q", p.Location)
	}
	// The state comes back wrong: refused.
	p = b.get("/auth/github/callback?state=wrong&code=x").must(t, http.StatusSeeOther)
	if p.Location != "/login" {
		t.Fatalf("wrong state: to %q", p.Location)
	}
	b.get("/auth/oidc").must(t, http.StatusServiceUnavailable)
	b.get("/auth/nope").must(t, http.StatusNotFound)
}
