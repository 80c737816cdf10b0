package dataplane

import (
	"testing"
)

func TestUnmatchedIs404RouteNotFound(t *testing.T) {
	e := newEnv(t)
	r := e.get("/nothing")
	expectBody(t, r, 404, `{"error_msg":"404 Route Not Found"}`+"\n")
}

func TestRoutingExactPrefixMethodsHostsPriority(t *testing.T) {
	e := newEnv(t)
	_, a := echoUpstream(t, "a")
	_, b := echoUpstream(t, "b")
	_, c := echoUpstream(t, "c")
	_, d := echoUpstream(t, "d")
	e.put("routes/exact", route("/hello", a, nil))
	e.put("routes/prefix", route("/hello/*", b, nil))
	e.put("routes/longer", route("/hello/world/*", c, nil))
	e.put("routes/post", route("/hello", d, map[string]any{"methods": []string{"POST"}, "priority": 10}))
	e.put("routes/host", route("/hello", d, map[string]any{"host": "api.example.com"}))
	e.put("routes/wild", route("/w", c, map[string]any{"hosts": []string{"*.example.org"}}))
	e.put("routes/uris", route("", a, map[string]any{"uri": nil, "uris": []string{"/u1", "/u2"}}))
	e.put("routes/off", route("/off", a, map[string]any{"status": 0}))

	cases := []struct {
		method, path, host, want string
		status                   int
	}{
		{"GET", "/hello", "", "a", 200},
		{"POST", "/hello", "", "d", 200}, // higher priority on the same path, method matches
		{"GET", "/hello/x", "", "b", 200},
		{"GET", "/hello/world/x", "", "c", 200}, // longest prefix
		{"GET", "/hello/world", "", "b", 200},
		{"GET", "/hellox", "", "", 404},
		{"GET", "/hello", "api.example.com", "d", 200},   // host routes first
		{"GET", "/hello/x", "api.example.com", "b", 200}, // falls back to routes without host
		{"GET", "/w", "x.example.org", "c", 200},
		{"GET", "/w", "a.b.example.org", "c", 200},
		{"GET", "/w", "example.org", "", 404},
		{"GET", "/u2", "", "a", 200},
		{"GET", "/off", "", "", 404}, // status 0 disables
	}
	for _, tc := range cases {
		var hdr []string
		if tc.host != "" {
			hdr = append(hdr, "Host: "+tc.host)
		}
		r := e.do(tc.method, tc.path, hdr...)
		if r.Status != tc.status {
			t.Errorf("%s %s host %q: status %d, want %d (%q)", tc.method, tc.path, tc.host, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == 200 {
			if got := r.Header.Get("X-Upstream"); got != tc.want {
				t.Errorf("%s %s host %q: upstream %q, want %q", tc.method, tc.path, tc.host, got, tc.want)
			}
		}
	}
	// Deleting a route takes it out at once.
	e.del("routes/longer")
	if got := e.get("/hello/world/x").Header.Get("X-Upstream"); got != "b" {
		t.Fatalf("after delete: upstream %q, want b", got)
	}
}

func TestServiceUpstreamAndPluginPrecedence(t *testing.T) {
	e := newEnv(t)
	_, a := echoUpstream(t, "a")
	e.put("upstreams/u1", map[string]any{"type": "roundrobin", "nodes": []any{a}})
	e.put("services/s1", map[string]any{
		"upstream_id": "u1",
		"hosts":       []string{"svc.example.com"},
		"plugins": map[string]any{
			"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-From": "service"}}},
		},
	})
	e.put("plugin_configs/pc1", map[string]any{"plugins": map[string]any{
		"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-From": "plugin_config"}}},
	}})
	// Route with service only: service hosts and plugins apply.
	e.put("routes/r1", map[string]any{"uri": "/s", "service_id": "s1"})
	r := e.get("/s", "Host: svc.example.com")
	expectStatus(t, r, 200)
	if got := r.echo(t).Headers.Get("X-From"); got != "service" {
		t.Fatalf("X-From %q, want service", got)
	}
	expectStatus(t, e.get("/s", "Host: other.example.com"), 404) // service hosts apply to the route

	// The plugin config wins over the service.
	e.put("routes/r1", map[string]any{"uri": "/s", "service_id": "s1", "plugin_config_id": "pc1"})
	if got := e.get("/s", "Host: svc.example.com").echo(t).Headers.Get("X-From"); got != "plugin_config" {
		t.Fatalf("X-From %q, want plugin_config", got)
	}
	// The route's own plugin wins over both.
	e.put("routes/r1", map[string]any{"uri": "/s", "service_id": "s1", "plugin_config_id": "pc1", "plugins": map[string]any{
		"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-From": "route"}}},
	}})
	if got := e.get("/s", "Host: svc.example.com").echo(t).Headers.Get("X-From"); got != "route" {
		t.Fatalf("X-From %q, want route", got)
	}
	// Changing the plugin config alone is applied to the route using it.
	e.put("routes/r2", map[string]any{"uri": "/pc", "upstream_id": "u1", "plugin_config_id": "pc1"})
	e.put("plugin_configs/pc1", map[string]any{"plugins": map[string]any{
		"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-From": "pc-v2"}}},
	}})
	if got := e.get("/pc").echo(t).Headers.Get("X-From"); got != "pc-v2" {
		t.Fatalf("X-From %q, want pc-v2", got)
	}
	// A missing plugin config: 503; a missing service: 404; a missing upstream_id: 502.
	e.put("routes/r3", map[string]any{"uri": "/nopc", "upstream_id": "u1", "plugin_config_id": "nope"})
	expectStatus(t, e.get("/nopc"), 503)
	e.put("routes/r4", map[string]any{"uri": "/nosvc", "service_id": "nope"})
	expectStatus(t, e.get("/nosvc"), 404)
	e.put("routes/r5", map[string]any{"uri": "/noup", "upstream_id": "nope"})
	expectStatus(t, e.get("/noup"), 502)
	// Once the upstream appears, the route that names it works.
	e.put("upstreams/nope", map[string]any{"nodes": []any{a}})
	expectStatus(t, e.get("/noup"), 200)
}

func TestInvalidValuesAreSkipped(t *testing.T) {
	e := newEnv(t)
	_, a := echoUpstream(t, "a")
	e.put("routes/good", route("/good", a, nil))
	e.put("routes/notjson", "not json")
	e.put("routes/array", `[1,2]`)
	e.put("routes/unknown-plugin", route("/unknown", a, map[string]any{"plugins": map[string]any{"no-such-plugin": map[string]any{}}}))
	e.put("routes/bad-schema", route("/bad", a, map[string]any{"plugins": map[string]any{"limit-count": map[string]any{"count": -1, "time_window": 60}}}))
	e.put("routes/bad-method", route("/badm", a, map[string]any{"methods": []string{"FETCH"}}))
	expectStatus(t, e.get("/good"), 200)
	expectStatus(t, e.get("/unknown"), 404)
	expectStatus(t, e.get("/bad"), 404)
	expectStatus(t, e.get("/badm"), 404)
	// A route replaced by a bad value stops serving instead of running the old config.
	e.put("routes/good", `{"uri": 5}`)
	expectStatus(t, e.get("/good"), 404)
}
