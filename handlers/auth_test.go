package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"devportal/internal/dbtest"
	"devportal/models"
)

var paramPattern = regexp.MustCompile(`:[A-Za-z_]+`)

// Every route under /api/v1, today's and any added later, must answer 401
// without a key and with a wrong one.
func TestEveryAPIRouteRequiresKey(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	seen := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1") {
			continue
		}
		path := paramPattern.ReplaceAllString(r.Path, "x")
		if seen[r.Method+" "+path] {
			continue
		}
		seen[r.Method+" "+path] = true
		body := ""
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			body = `{"name":"x"}`
		}
		for _, key := range []string{"", "wrong-key-0123456789", adminToken + "x", strings.ToUpper(adminToken)} {
			resp := e.raw(t, r.Method, path, key, "application/json", body)
			if resp.Status != http.StatusUnauthorized {
				t.Errorf("%s %s with key %q = %d, want 401", r.Method, r.Path, key, resp.Status)
				continue
			}
			if r.Method == http.MethodHead {
				continue
			}
			if code, _, _ := resp.Error(t); code != "unauthenticated" {
				t.Errorf("%s %s: error code %q, want unauthenticated", r.Method, r.Path, code)
			}
		}
		// The right key gets past authentication.
		if resp := e.raw(t, r.Method, path, adminToken, "application/json", body); resp.Status == http.StatusUnauthorized {
			t.Errorf("%s %s with the admin key = 401", r.Method, r.Path)
		}
	}
	if len(seen) < 23 {
		t.Fatalf("checked %d /api/v1 routes, want all of the contract's 23 or more: %v", len(seen), seen)
	}
}

func TestAPIKeyOfNonAdminIsForbidden(t *testing.T) {
	db := dbtest.SQLite(t)
	e := newEnv(t, db)
	u := models.User{ID: "dev1", Email: "dev@example.com"}
	if err := db.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.APIToken{ID: "tok1", UserID: u.ID, TokenHash: hashOf("developer-token-0123456789")}).Error; err != nil {
		t.Fatal(err)
	}
	resp := e.raw(t, "GET", "/api/v1/gateway_groups", "developer-token-0123456789", "", "")
	if resp.Status != http.StatusForbidden {
		t.Fatalf("non-admin key = %d %s, want 403", resp.Status, resp.Body)
	}
	if code, _, _ := resp.Error(t); code != "forbidden" {
		t.Fatalf("code = %q, want forbidden", code)
	}
}

func TestUnauthenticatedAnswerSaysHow(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	resp := e.raw(t, "GET", "/api/v1/gateway_groups", "", "", "")
	_, msg, _ := resp.Error(t)
	if !strings.Contains(msg, "X-API-KEY") || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("401 = %q, header %q; want it to name X-API-KEY", msg, resp.Header.Get("WWW-Authenticate"))
	}
}
