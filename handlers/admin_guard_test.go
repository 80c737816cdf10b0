package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestEveryAdminRouteIsGuarded walks the app's routes: every /admin route,
// GET or POST, sends an anonymous visitor to the sign-in page and answers a
// signed-in developer 403. A new route that forgets the guard fails here.
func TestEveryAdminRouteIsGuarded(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	anon := e.browser(t)
	anon.get("/login") // a CSRF token, so that POSTs reach the guard
	dev := e.devBrowser(t)
	params := regexp.MustCompile(`:[a-z]+`)
	seen := map[string]bool{}
	var n int
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/admin") || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
			continue
		}
		path := params.ReplaceAllString(r.Path, "x")
		if seen[r.Method+path] {
			continue
		}
		seen[r.Method+path] = true
		n++
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			var a, d *page
			if r.Method == http.MethodGet {
				a, d = anon.get(path), dev.get(path)
			} else {
				a, d = anon.post(path, nil), dev.post(path, nil)
			}
			if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Location, "/login?next=") {
				t.Errorf("anonymous: %d to %q, want 303 to /login", a.Status, a.Location)
			}
			if d.Status != http.StatusForbidden {
				t.Errorf("developer: %d, want 403", d.Status)
			}
		})
	}
	if n < 30 {
		t.Fatalf("only %d /admin routes found; is the walk broken?", n)
	}
}
