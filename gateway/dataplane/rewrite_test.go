package dataplane

import (
	"testing"
)

// Cases from APISIX's t/plugin/proxy-rewrite*.t and its doc.
func TestProxyRewrite(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	pr := func(uri string, conf map[string]any) map[string]any {
		return route(uri, up, map[string]any{"plugins": map[string]any{"proxy-rewrite": conf}})
	}
	e.put("routes/uri", pr("/hello", map[string]any{"uri": "/plugin_proxy_rewrite", "host": "apisix.iresty.com"}))
	e.put("routes/regex", pr("/test/*", map[string]any{"regex_uri": []string{"^/test/(.*)/(.*)/(.*)", "/$1_$2_$3"}}))
	e.put("routes/strip", pr("/petstore/*", map[string]any{"regex_uri": []string{"^/petstore/(.*)", "/$1"}}))
	e.put("routes/headers", pr("/headers", map[string]any{"headers": map[string]any{
		"add":    map[string]any{"X-Add": "v1"},
		"set":    map[string]any{"X-Api-Version": "v2", "X-Uri": "$uri", "X-Arg": "$arg_name"},
		"remove": []string{"X-Drop"},
	}}))
	e.put("routes/old-headers", pr("/old", map[string]any{"headers": map[string]any{"X-Api": "old-form"}}))
	e.put("routes/method", pr("/m", map[string]any{"method": "POST"}))
	e.put("routes/var-uri", pr("/var", map[string]any{"uri": "/new/$arg_id"}))

	got := e.get("/hello?x=1").echo(t)
	if got.URI != "/plugin_proxy_rewrite?x=1" || got.Host != "apisix.iresty.com" {
		t.Fatalf("uri+host rewrite: uri %q host %q", got.URI, got.Host)
	}
	if got := e.get("/test/a/b/c").echo(t); got.Path != "/a_b_c" {
		t.Fatalf("regex_uri: %q", got.Path)
	}
	if got := e.get("/petstore/pets/1?y=2").echo(t); got.URI != "/pets/1?y=2" {
		t.Fatalf("strip prefix: %q", got.URI)
	}
	got = e.get("/headers?name=n1", "X-Drop: 1", "X-Api-Version: v1", "X-Add: v0").echo(t)
	h := got.Headers
	if h.Get("X-Drop") != "" || h.Get("X-Api-Version") != "v2" || h.Get("X-Uri") != "/headers" || h.Get("X-Arg") != "n1" {
		t.Fatalf("headers: %v", h)
	}
	if adds := h.Values("X-Add"); len(adds) != 2 {
		t.Fatalf("add keeps the client's value and adds one: %v", adds)
	}
	// Hop-by-hop headers are not forwarded, also when the plugin sets them.
	e.put("routes/hop", pr("/hop", map[string]any{"headers": map[string]any{
		"set": map[string]any{"upgrade": "h2c", "Proxy-Connection": "keep-alive", "X-Keep": "1"},
		"add": map[string]any{"TE": "trailers"},
	}}))
	h = e.get("/hop").echo(t).Headers
	if h.Get("Upgrade") != "" || h.Get("Proxy-Connection") != "" || h.Get("Te") != "" || h.Get("X-Keep") != "1" {
		t.Fatalf("hop-by-hop headers set by the plugin: %v", h)
	}
	if got := e.get("/old").echo(t).Headers.Get("X-Api"); got != "old-form" {
		t.Fatalf("old headers form: %q", got)
	}
	if got := e.get("/m").echo(t).Method; got != "POST" {
		t.Fatalf("method: %q", got)
	}
	if got := e.get("/var?id=7").echo(t).URI; got != "/new/7?id=7" {
		t.Fatalf("uri with vars: %q", got)
	}
	// The control core's strip-prefix form.
	e.put("routes/core-strip", pr("/api*", map[string]any{"regex_uri": []string{`^/api(/|$)(.*)`, "/$2"}}))
	for path, want := range map[string]string{"/api": "/", "/api/": "/", "/api/pets/1": "/pets/1", "/apix": "/apix"} {
		if got := e.get(path).echo(t).Path; got != want {
			t.Errorf("strip %s: upstream path %q, want %q", path, got, want)
		}
	}
	// A regex APISIX's schema would reject skips the route.
	e.put("routes/badre", pr("/badre", map[string]any{"regex_uri": []string{"^/(", "/x"}}))
	expectStatus(t, e.get("/badre"), 404)
	e.put("routes/odd", pr("/odd", map[string]any{"regex_uri": []string{"^/a", "/b", "^/c"}}))
	expectStatus(t, e.get("/odd"), 404)
}
