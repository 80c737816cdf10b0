package handlers_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"

	"devportal/handlers"
	"devportal/internal/dbtest"
)

func TestBadInputAnswers4xxJSON(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	const js = "application/json"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		code        string
		message     string // substring
	}{
		{"malformed JSON", "POST", "/api/v1/gateway_groups", js, `{"name": "a",}`, 400, "invalid_json", "malformed JSON at offset"},
		{"truncated JSON", "POST", "/api/v1/service_templates", js, `{"name": "a"`, 400, "invalid_json", "unexpected end of input"},
		{"wrong type", "POST", "/api/v1/service_templates", js,
			`{"name":"a","type":"http","routes":[{"name":"r","paths":"/a"}]}`, 400, "invalid_json",
			"field routes[0].paths: want array of strings, got string"},
		{"wrong type in group", "POST", "/api/v1/gateway_groups", js, `{"name":["a"]}`, 400, "invalid_json", "field name: want string, got array"},
		{"unknown field", "POST", "/api/v1/gateway_groups", js, `{"name":"a","prefx":"/x"}`, 400, "invalid_json", `unknown field "prefx"`},
		{"unknown field in publish", "POST", "/api/v1/service_templates/x/publish", js, `{"group":"default"}`, 400, "invalid_json", `unknown field "group"`},
		{"empty body", "POST", "/api/v1/plugin_templates", js, ``, 400, "invalid_json", "request body is empty"},
		{"form body", "POST", "/api/v1/plugin_templates", "application/x-www-form-urlencoded", `name=a`, 415, "unsupported_media_type", "Content-Type must be application/json"},
		{"text body", "PUT", "/api/v1/gateway_groups/default/services/x/runtime", "text/plain", `{}`, 415, "unsupported_media_type", "got text/plain"},
		{"bad page", "GET", "/api/v1/service_templates?page=0", "", "", 400, "invalid_input", "page: want an integer of at least 1"},
		{"bad limit", "GET", "/api/v1/plugin_templates?limit=abc", "", "", 400, "invalid_input", "limit"},
		{"page and offset", "GET", "/api/v1/gateway_groups?page=2&offset=3", "", "", 400, "invalid_input", "not both"},
		{"unknown endpoint", "GET", "/api/v1/nothing_here", "", "", 404, "not_found", "no such endpoint"},
		{"wrong method", "PATCH", "/api/v1/gateway_groups", js, `{}`, 405, "method_not_allowed", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.raw(t, tt.method, tt.path, adminToken, tt.contentType, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			code, msg, _ := r.Error(t)
			if code != tt.code || !strings.Contains(msg, tt.message) {
				t.Fatalf("error = %s %q, want %s containing %q", code, msg, tt.code, tt.message)
			}
		})
	}
}

// The body limit is enforced while reading the request, before routing, so
// this test needs a real listener (app.Test reports it as a transport error).
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *handlers.Config) { c.BodyLimit = 1024 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	t.Cleanup(func() { e.app.Shutdown() })
	body := `{"name":"` + strings.Repeat("a", 4096) + `"}`
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/gateway_groups", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(handlers.APIKeyHeader, adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body = %d %s, want 413", r.Status, r.Body)
	}
	if code, _, _ := r.Error(t); code != "body_too_large" {
		t.Fatalf("code = %q, want body_too_large", code)
	}
}

func TestDomainValidationAnswers400WithFields(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.call(t, "POST", "/api/v1/gateway_groups", map[string]any{"name": "", "prefix": "no-slash"})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("invalid group = %d %s, want 400", r.Status, r.Body)
		}
		code, msg, fields := r.Error(t)
		if code != "invalid_input" || fields["name"] == "" || fields["prefix"] == "" || !strings.Contains(msg, "name") || !strings.Contains(msg, "prefix") {
			t.Fatalf("error = %s %q %v, want invalid_input naming name and prefix", code, msg, fields)
		}
		r = e.call(t, "POST", "/api/v1/service_templates", map[string]any{
			"name": "bad", "type": "http",
			"upstream": map[string]any{"nodes": []map[string]any{{"host": "127.0.0.1", "port": 80}}},
			"routes":   []map[string]any{{"name": "r", "paths": []string{"no-leading-slash"}}},
		})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("route path APISIX would reject = %d %s, want 400", r.Status, r.Body)
		}
		if code, _, fields := r.Error(t); code != "invalid_input" || len(fields) == 0 {
			t.Fatalf("error = %s %v, want invalid_input with fields", code, fields)
		}
	})
}

func TestUnknownThingsAnswer404(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/v1/gateway_groups/nope", ""},
			{"GET", "/api/v1/gateway_groups/nope/nodes", ""},
			{"GET", "/api/v1/gateway_groups/nope/services", ""},
			{"GET", "/api/v1/gateway_groups/default/services/nope", ""},
			{"GET", "/api/v1/gateway_groups/default/services/nope/history", ""},
			{"DELETE", "/api/v1/gateway_groups/default/services/nope", ""},
			{"PUT", "/api/v1/gateway_groups/default/services/nope/runtime", `{"path_prefix":"/x"}`},
			{"POST", "/api/v1/gateway_groups/default/services/nope/rollback", `{"history_id":"h"}`},
			{"GET", "/api/v1/service_templates/nope", ""},
			{"DELETE", "/api/v1/service_templates/nope", ""},
			{"POST", "/api/v1/service_templates/nope/publish", `{"gateway_group_id":"default","version":"1"}`},
			{"GET", "/api/v1/plugin_templates/nope", ""},
			{"DELETE", "/api/v1/plugin_templates/nope", ""},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := e.call(t, c.method, c.path, body)
			if r.Status != http.StatusNotFound {
				t.Errorf("%s %s = %d %s, want 404", c.method, c.path, r.Status, r.Body)
				continue
			}
			if code, _, _ := r.Error(t); code != "not_found" {
				t.Errorf("%s %s: code %q, want not_found", c.method, c.path, code)
			}
		}
	})
}
