package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"

	"devportal/handlers"
	"devportal/portal/accounts"
)

// TestEveryFormNeedsCSRFToken walks the app's routes: every site route
// taking an unsafe method answers 403 without the form token and with a
// wrong one, even for a signed-in admin whom every guard lets through, and
// writes nothing. A new form that skips the CSRF middleware fails here.
func TestEveryFormNeedsCSRFToken(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	b := e.adminBrowser(t)
	b.get("/admin") // a valid token and session, which the requests leave out or spoil
	params := regexp.MustCompile(`:[a-z]+`)
	before := rowCounts(t, e.DB)
	seen := map[string]bool{}
	var n int
	for _, r := range e.app.GetRoutes(true) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect:
			continue
		}
		if strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/static/") {
			continue
		}
		path := params.ReplaceAllString(r.Path, "x")
		if seen[r.Method+path] {
			continue
		}
		seen[r.Method+path] = true
		n++
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			form := url.Values{"name": {"csrf-probe"}, "email": {e.Admin.Email}, "password": {adminPassword}}
			if p := b.do(r.Method, path, form); p.Status != http.StatusForbidden {
				t.Errorf("without a token: %d (Location %q), want 403", p.Status, p.Location)
			}
			form.Set("_csrf", "not-the-token")
			if p := b.do(r.Method, path, form); p.Status != http.StatusForbidden {
				t.Errorf("with a wrong token: %d (Location %q), want 403", p.Status, p.Location)
			}
		})
	}
	if n < 30 {
		t.Fatalf("only %d unsafe site routes found; is the walk broken?", n)
	}
	if d := diffCounts(before, rowCounts(t, e.DB)); d != "" {
		t.Fatalf("refused forms wrote rows: %s", d)
	}
	// The session still works: the refusals did not sign the admin out.
	b.get("/admin").must(t, http.StatusOK)
}

// TestBodyTooLargeEverywhere: a body over the limit is answered 413 (not
// 500, not a form error) and writes nothing, on a site form, on the Admin
// API (with and without a Content-Length) and on an OpenAPI import, both
// through the Admin API and as the admin form's file upload. The limit is
// enforced while reading the request, so this needs a real listener.
func TestBodyTooLargeEverywhere(t *testing.T) {
	const limit = 64 << 10
	e := newWebEnv(t, sqliteDB(t), func(c *handlers.Config) { c.BodyLimit = limit })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	t.Cleanup(func() { _ = e.app.Shutdown() })
	base := "http://" + ln.Addr().String()
	if _, err := e.Accounts.EnsureAdmin(e.Ctx, accounts.Seed{Token: adminToken}); err != nil {
		t.Fatal(err)
	}

	big := strings.Repeat("a", limit+1)
	doc := `{"openapi":"3.0.3","info":{"title":"Big","version":"1","description":"` + big + `"},"paths":{}}`
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("name", "big")
	fw, _ := mw.CreateFormFile("openapi_file", "big.json")
	_, _ = io.WriteString(fw, doc)
	_ = mw.Close()

	cases := []struct {
		name, method, path, contentType string
		body                            func() io.Reader
		apiKey                          bool
	}{
		{"sign-in form", "POST", "/login", "application/x-www-form-urlencoded",
			func() io.Reader { return strings.NewReader(url.Values{"email": {"a@b.c"}, "password": {big}}.Encode()) }, false},
		{"admin API", "POST", "/api/v1/gateway_groups", "application/json",
			func() io.Reader { return strings.NewReader(`{"name":"` + big + `"}`) }, true},
		{"admin API, chunked", "POST", "/api/v1/organizations", "application/json",
			func() io.Reader { return io.MultiReader(strings.NewReader(`{"name":"`+big), strings.NewReader(`"}`)) }, true},
		{"OpenAPI import, Admin API", "POST", "/api/v1/portal/apis", "application/json",
			func() io.Reader { return strings.NewReader(`{"name":"big","openapi":` + doc + `}`) }, true},
		{"OpenAPI import, admin form upload", "POST", "/admin/apis", mw.FormDataContentType(),
			func() io.Reader { return bytes.NewReader(mp.Bytes()) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := rowCounts(t, e.DB)
			req, _ := http.NewRequest(c.method, base+c.path, c.body())
			req.Header.Set("Content-Type", c.contentType)
			if c.apiKey {
				req.Header.Set(handlers.APIKeyHeader, adminToken)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s %s with %d bytes = %d %s, want 413", c.method, c.path, limit+1, resp.StatusCode, b)
			}
			if c.apiKey {
				// The Admin API's error shape, and no site session.
				r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
				if code, _, _ := r.Error(t); code != "body_too_large" {
					t.Fatalf("code = %q, want body_too_large", code)
				}
				if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
					t.Fatalf("an Admin API request got cookies %q", sc)
				}
			}
			after := rowCounts(t, e.DB)
			if !c.apiKey {
				// fiber runs the app's middleware for a request it could
				// not read too, so an anonymous visitor of the site gets
				// a session as on any page; nothing else may be written.
				delete(before, "sessions")
				delete(after, "sessions")
			}
			if d := diffCounts(before, after); d != "" {
				t.Fatalf("refused body wrote rows: %s", d)
			}
		})
	}
}

// TestCookieFlagsThroughSignIn: every cookie the site sets, on the first
// page, at sign-in (a new session) and at sign-out, is HttpOnly and
// SameSite=Lax, and Secure with the __Host- prefix exactly when the site
// is configured for https; a forwarded-proto header changes nothing.
func TestCookieFlagsThroughSignIn(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newWebEnv(t, sqliteDB(t), func(c *handlers.Config) { c.Site.SecureCookies = secure })
		b := e.browser(t)
		check := func(step string, p *page) int {
			t.Helper()
			n := 0
			for _, c := range p.Header.Values("Set-Cookie") {
				n++
				name, _, _ := strings.Cut(c, "=")
				lc := strings.ToLower(c)
				if !strings.Contains(lc, "httponly") || !strings.Contains(lc, "samesite=lax") {
					t.Errorf("secure=%v %s: cookie %q, want HttpOnly and SameSite=Lax", secure, step, c)
				}
				if hasSecure := strings.Contains(lc, "; secure"); hasSecure != secure || strings.HasPrefix(name, "__Host-") != secure {
					t.Errorf("secure=%v %s: cookie %q has the wrong Secure flag or name", secure, step, c)
				}
			}
			return n
		}
		if check("first page", b.get("/login")) == 0 {
			t.Fatalf("secure=%v: the sign-in page set no cookie", secure)
		}
		p := b.post("/login", url.Values{"email": {e.Admin.Email}, "password": {adminPassword}}).must(t, http.StatusSeeOther)
		if check("sign-in", p) == 0 {
			t.Fatalf("secure=%v: sign-in set no cookie (the session must be renewed)", secure)
		}
		check("signed-in page", b.get("/admin").must(t, http.StatusOK))
		check("sign-out", b.post("/logout", nil).must(t, http.StatusSeeOther))
	}
	// Over plain http, a client claiming https does not turn Secure on.
	e := newWebEnv(t, sqliteDB(t))
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := e.app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(strings.ToLower(c), "; secure") {
			t.Errorf("X-Forwarded-Proto made cookie %q Secure; the base URL decides", c)
		}
	}
}
