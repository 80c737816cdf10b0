package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v3"
	"gorm.io/gorm"

	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/internal/portaltest"
	"devportal/portal/audit"
	"devportal/portal/gatewaystate"
	"devportal/portal/orgs"
)

// webEnv is the site on the whole domain (portaltest.World).
type webEnv struct {
	*portaltest.World
	app *fiber.App
}

// Passwords of the accounts a webEnv signs in with.
const (
	adminPassword = "admin-pass-1"
	devPassword   = "dev-pass-123"
)

func newWebEnv(t *testing.T, db *gorm.DB, edit ...func(*handlers.Config)) *webEnv {
	t.Helper()
	w := portaltest.New(t, db, member)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{
		Gateway: w.Gateway, Accounts: w.Accounts, Orgs: w.Orgs, Apps: w.Apps, Catalog: w.Catalog,
		Subscriptions: w.Subs, Audit: audit.New(db), Signup: w.Signup, State: gatewaystate.New(db, w.Apps),
		PingDB: sqlDB.PingContext,
	}
	for _, e := range edit {
		e(&cfg)
	}
	app := handlers.New(cfg)
	return &webEnv{World: w, app: app}
}

// eachWeb runs f on SQLite, and on PostgreSQL when DATABASE_URL is set.
func eachWeb(t *testing.T, f func(t *testing.T, e *webEnv)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, newWebEnv(t, db)) })
}

// browser keeps cookies and the last CSRF token, as a browser would.
type browser struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
	token   string
	ip      string
}

func (e *webEnv) browser(t *testing.T) *browser {
	return &browser{t: t, app: e.app, cookies: map[string]string{}, ip: "192.0.2.1"}
}

// page is an answer of the site.
type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
	doc      *goquery.Document
}

// Find selects in the page's HTML.
func (p *page) Find(sel string) *goquery.Selection { return p.doc.Find(sel) }

// TestID selects [data-testid=id].
func (p *page) TestID(id string) *goquery.Selection { return p.doc.Find(`[data-testid="` + id + `"]`) }

func (b *browser) do(method, path string, form url.Values) *page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = b.ip + ":1234"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.app.Test(req, fiber.TestConfig{Timeout: 60 * time.Second})
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw), Location: resp.Header.Get("Location")}
	p.doc, err = goquery.NewDocumentFromReader(strings.NewReader(p.Body))
	if err != nil {
		b.t.Fatal(err)
	}
	if tok, ok := p.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.token = tok
	}
	return p
}

// get fetches a page.
func (b *browser) get(path string) *page { b.t.Helper(); return b.do(http.MethodGet, path, nil) }

// post submits a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if b.token == "" {
		b.get("/login")
	}
	if !form.Has("_csrf") {
		form.Set("_csrf", b.token)
	}
	return b.do(http.MethodPost, path, form)
}

// must fails unless the page has the status.
func (p *page) must(t *testing.T, status int) *page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d (Location %q)\n%s", p.Status, status, p.Location, p.Body)
	}
	return p
}

// login signs in and fails unless it works.
func (b *browser) login(email, password string) {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign-in of %s: %d\n%s", email, p.Status, p.Body)
	}
	b.get(p.Location) // the form token is renewed at sign-in
}

// adminBrowser is a browser signed in as the World's admin.
func (e *webEnv) adminBrowser(t *testing.T) *browser {
	t.Helper()
	b := e.browser(t)
	b.login(e.Admin.Email, adminPassword)
	return b
}

// devBrowser is a browser signed in as a new developer (not an admin).
func (e *webEnv) devBrowser(t *testing.T) *browser {
	t.Helper()
	email := dbtest.Name("dev") + "@example.com"
	if _, err := e.Orgs.AddDeveloper(e.Ctx, e.Admin, orgs.DefaultID, orgs.DeveloperInput{Email: email, Password: devPassword}); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.login(email, devPassword)
	return b
}

func sqliteDB(t *testing.T) *gorm.DB { t.Helper(); return dbtest.SQLite(t) }
