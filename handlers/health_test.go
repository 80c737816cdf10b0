package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/portal/accounts"
)

func hashOf(token string) string { return accounts.HashToken(token) }

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	if r := e.raw(t, "GET", "/healthz", "", "", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"ok"`) {
		t.Fatalf("/healthz = %d %s", r.Status, r.Body)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r := e.raw(t, "GET", "/readyz", "", "", "")
	r.JSON(t, &ready)
	if r.Status != 200 || ready.Status != "ok" || ready.Checks["database"] != "ok" || ready.Checks["etcd"] != "ok" {
		t.Fatalf("/readyz = %d %s, want 200 with both checks ok", r.Status, r.Body)
	}
}

func TestReadyNamesWhatFailed(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *handlers.Config) {
		c.PingDB = func(context.Context) error { return errDown }
	})
	r := e.raw(t, "GET", "/readyz", "", "", "")
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database down = %d %s, want 503", r.Status, r.Body)
	}
	code, msg, _ := r.Error(t)
	if code != "not_ready" || !strings.Contains(msg, "database") || !strings.Contains(msg, errDown.Error()) {
		t.Fatalf("/readyz error = %s %q, want it to name the database and why", code, msg)
	}
}

func TestSwaggerUIServed(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	if r := e.raw(t, "GET", "/api/docs", "", "", ""); r.Status != http.StatusFound || r.Header.Get("Location") != "/api/docs/index.html" {
		t.Fatalf("/api/docs = %d %v", r.Status, r.Header)
	}
	r := e.raw(t, "GET", "/api/docs/index.html", "", "", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), "swagger-ui") {
		t.Fatalf("/api/docs/index.html = %d", r.Status)
	}
	if strings.Contains(string(r.Body), "https://") && strings.Contains(string(r.Body), "<script src=\"https://") {
		t.Fatal("the swagger UI loads scripts from the internet")
	}
	var doc struct {
		Paths               map[string]any `json:"paths"`
		SecurityDefinitions map[string]any `json:"securityDefinitions"`
	}
	r = e.raw(t, "GET", "/api/docs/doc.json", "", "", "")
	r.JSON(t, &doc)
	if doc.Paths["/service_templates/{tid}/publish"] == nil || doc.SecurityDefinitions["ApiKeyAuth"] == nil {
		t.Fatalf("doc.json lacks the publish path or the API key scheme: %s", r.Body[:min(len(r.Body), 300)])
	}
	for _, asset := range []string{"/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"} {
		if r := e.raw(t, "GET", asset, "", "", ""); r.Status != 200 || len(r.Body) < 1000 {
			t.Errorf("%s = %d, %d bytes; want the embedded asset", asset, r.Status, len(r.Body))
		}
	}
}
