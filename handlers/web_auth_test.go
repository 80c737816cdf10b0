package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"devportal/handlers"
)

func TestSignIn(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.browser(t)
		p := b.get("/login").must(t, http.StatusOK)
		if p.TestID("login-form").Length() != 1 {
			t.Fatal("no sign-in form")
		}
		sessBefore := b.cookies["devportal_session"]

		// A wrong password: the form again, with the e-mail kept.
		p = b.post("/login", url.Values{"email": {e.Admin.Email}, "password": {"wrong-password"}}).must(t, http.StatusUnauthorized)
		if p.TestID("login-error").Length() != 1 {
			t.Fatalf("no error shown:\n%s", p.Body)
		}
		if v, _ := p.Find(`input[name=email]`).Attr("value"); v != e.Admin.Email {
			t.Fatalf("e-mail not kept: %q", v)
		}

		// The right one: a new session ID, then the admin side.
		p = b.post("/login", url.Values{"email": {e.Admin.Email}, "password": {adminPassword}, "next": {"/admin/groups"}}).must(t, http.StatusSeeOther)
		if p.Location != "/admin/groups" {
			t.Fatalf("redirect to %q, want /admin/groups", p.Location)
		}
		if after := b.cookies["devportal_session"]; after == "" || after == sessBefore {
			t.Fatal("the session ID was not regenerated at sign-in")
		}
		p = b.get("/admin").must(t, http.StatusOK)
		if p.TestID("current-user").Length() != 1 || p.TestID("flash-success").Length() != 1 {
			t.Fatalf("no user or flash on the dashboard:\n%s", p.Body)
		}

		// Sign out: the session is gone; /admin asks to sign in again.
		signedIn := b.cookies["devportal_session"]
		b.post("/logout", nil).must(t, http.StatusSeeOther)
		if b.cookies["devportal_session"] == signedIn {
			t.Fatal("the session ID survived sign-out")
		}
		b.get("/admin").must(t, http.StatusSeeOther)
		// The old cookie no longer signs anyone in.
		old := e.browser(t)
		old.cookies["devportal_session"] = signedIn
		old.get("/admin").must(t, http.StatusSeeOther)
	})
}

func TestSessionCookieFlags(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	p := e.browser(t).get("/login")
	var found bool
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "devportal_session=") {
			found = true
			lc := strings.ToLower(c)
			if !strings.Contains(lc, "httponly") || !strings.Contains(lc, "samesite=lax") {
				t.Fatalf("session cookie %q: want HttpOnly and SameSite=Lax", c)
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie in %q", p.Header.Values("Set-Cookie"))
	}
}

func TestAdminNeedsAdmin(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		p := e.browser(t).get("/admin/subscriptions?status=pending").must(t, http.StatusSeeOther)
		if want := "/login?next=" + url.QueryEscape("/admin/subscriptions?status=pending"); p.Location != want {
			t.Fatalf("redirect to %q, want %q", p.Location, want)
		}
		p = e.devBrowser(t).get("/admin").must(t, http.StatusForbidden)
		if p.TestID("error-page").Length() != 1 {
			t.Fatalf("403 is not the HTML error page:\n%s", p.Body)
		}
	})
}

func TestCSRF(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.browser(t)
	b.get("/login")
	form := url.Values{"email": {e.Admin.Email}, "password": {adminPassword}}

	// No token, and a wrong token: refused with the 403 page.
	p := b.do(http.MethodPost, "/login", form).must(t, http.StatusForbidden)
	if p.TestID("error-page").Length() != 1 {
		t.Fatalf("CSRF refusal is not an HTML page:\n%s", p.Body)
	}
	bad := url.Values{"email": form["email"], "password": form["password"], "_csrf": {"not-the-token"}}
	b.do(http.MethodPost, "/login", bad).must(t, http.StatusForbidden)

	// With it: accepted.
	b.post("/login", form).must(t, http.StatusSeeOther)
	b.get("/admin").must(t, http.StatusOK) // the new token of the signed-in session

	// Signed in, a form without the token is still refused.
	b.do(http.MethodPost, "/logout", url.Values{}).must(t, http.StatusForbidden)
	b.post("/logout", nil).must(t, http.StatusSeeOther)
}

func TestLoginLimiter(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.browser(t)
	b.get("/login")
	for i := 0; i < 10; i++ {
		b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong"}}).must(t, http.StatusUnauthorized)
	}
	p := b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong"}}).must(t, http.StatusTooManyRequests)
	if !strings.Contains(p.TestID("login-error").Text(), "Too many sign-in attempts") {
		t.Fatalf("no clear message:\n%s", p.Body)
	}
	// Even the right password waits now (app.Test gives every request the
	// same IP, so the per-IP and per-e-mail limits both apply here).
	b.post("/login", url.Values{"email": {e.Admin.Email}, "password": {adminPassword}}).must(t, http.StatusTooManyRequests)
}

func TestOpenRedirectRefused(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	for _, next := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`, "javascript:alert(1)", "/\r\nSet-Cookie:x"} {
		b := e.browser(t)
		b.get("/login")
		p := b.post("/login", url.Values{"email": {e.Admin.Email}, "password": {adminPassword}, "next": {next}}).must(t, http.StatusSeeOther)
		if p.Location != "/admin" {
			t.Fatalf("next=%q: redirect to %q, want /admin", next, p.Location)
		}
	}
}

func TestSiteErrorPages(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.browser(t)
	p := b.get("/no/such/page").must(t, http.StatusNotFound)
	if p.TestID("error-page").Length() != 1 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("404 is not the HTML page: %s\n%s", p.Header.Get("Content-Type"), p.Body)
	}
	// The JSON API keeps its JSON errors.
	p = b.get("/api/v1/nothing")
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/api answered %s", p.Header.Get("Content-Type"))
	}
}

func TestStaticAssets(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.browser(t)
	p := b.get("/login")
	href, _ := p.Find(`link[rel=stylesheet]`).Attr("href")
	if !strings.HasPrefix(href, "/static/") {
		t.Fatalf("stylesheet at %q", href)
	}
	css := b.get(href).must(t, http.StatusOK)
	if !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css headers: %v", css.Header)
	}
	if len(css.Header.Values("Set-Cookie")) != 0 {
		t.Fatal("static files set cookies")
	}
	b.get("/static/x/css/nope.css").must(t, http.StatusNotFound)
}

func TestSecureCookies(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t), func(c *handlers.Config) { c.Site.SecureCookies = true })
	p := e.browser(t).get("/login")
	names := map[string]bool{}
	for _, c := range p.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		names[name] = true
		lc := strings.ToLower(c)
		if !strings.HasPrefix(name, "__Host-") || !strings.Contains(lc, "secure") || !strings.Contains(lc, "path=/") || strings.Contains(lc, "domain=") {
			t.Errorf("cookie %q: want __Host-, Secure, Path=/ and no Domain", c)
		}
	}
	if !names["__Host-devportal_session"] || !names["__Host-devportal_csrf"] {
		t.Fatalf("cookies %v", names)
	}
}

func TestCSRFTokenRenewedAtSignIn(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.browser(t)
	b.get("/login")
	before := b.token
	b.login(e.Admin.Email, adminPassword)
	b.get("/admin").must(t, http.StatusOK)
	if b.token == "" || b.token == before {
		t.Fatal("the form token of the signed-out page is still in use after sign-in")
	}
	// The old token is refused.
	b.do(http.MethodPost, "/logout", url.Values{"_csrf": {before}}).must(t, http.StatusForbidden)
	b.post("/logout", nil).must(t, http.StatusSeeOther)
}
