package dataplane

import (
	"strconv"
	"testing"
)

// Cases from APISIX's t/plugin/limit-count.t and its doc.
func TestLimitCount(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("routes/1", route("/hello", up, map[string]any{"plugins": map[string]any{
		"limit-count": map[string]any{"count": 2, "time_window": 60, "rejected_code": 503, "key": "remote_addr"}}}))

	r := e.get("/hello")
	expectStatus(t, r, 200)
	if r.Header.Get("X-RateLimit-Limit") != "2" || r.Header.Get("X-RateLimit-Remaining") != "1" || r.Header.Get("X-RateLimit-Reset") != "60" {
		t.Fatalf("first request headers %v", r.Header)
	}
	r = e.get("/hello")
	expectStatus(t, r, 200)
	if r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("second request remaining %q", r.Header.Get("X-RateLimit-Remaining"))
	}
	if reset, err := strconv.ParseFloat(r.Header.Get("X-RateLimit-Reset"), 64); err != nil || reset <= 0 || reset > 60 {
		t.Fatalf("reset %q", r.Header.Get("X-RateLimit-Reset"))
	}
	for i := 0; i < 2; i++ {
		r = e.get("/hello")
		expectStatus(t, r, 503)
		if r.Header.Get("X-RateLimit-Limit") != "2" || r.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("rejected headers %v", r.Header)
		}
	}
	// With rejected_msg the body is {"error_msg": msg}.
	e.put("routes/2", route("/msg", up, map[string]any{"plugins": map[string]any{
		"limit-count": map[string]any{"count": 1, "time_window": 60, "rejected_code": 429, "rejected_msg": "Requests are too frequent, please try again later."}}}))
	expectStatus(t, e.get("/msg"), 200)
	expectBody(t, e.get("/msg"), 429, `{"error_msg":"Requests are too frequent, please try again later."}`+"\n")
	// show_limit_quota_header false hides the headers.
	e.put("routes/3", route("/quiet", up, map[string]any{"plugins": map[string]any{
		"limit-count": map[string]any{"count": 1, "time_window": 60, "show_limit_quota_header": false}}}))
	r = e.get("/quiet")
	if r.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("headers shown: %v", r.Header)
	}
	expectStatus(t, e.get("/quiet"), 503) // default rejected_code
}

// The portal's rate limit: counted per consumer (key_type var, key consumer_name).
func TestLimitCountPerConsumerWithAuthAndWhitelist(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	for _, u := range []string{"app_1", "app_2"} {
		e.put("consumers/"+u, map[string]any{"username": u, "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "k-"+u)}}})
	}
	plugins := map[string]any{
		"key-auth":             map[string]any{},
		"consumer-restriction": map[string]any{"whitelist": []string{"app_1", "app_2"}},
		"limit-count":          map[string]any{"count": 2, "time_window": 60, "key_type": "var", "key": "consumer_name", "rejected_code": 429},
	}
	e.put("routes/1", route("/api", up, map[string]any{"plugins": plugins}))
	expectStatus(t, e.get("/api", "apikey: k-app_1"), 200)
	expectStatus(t, e.get("/api", "apikey: k-app_1"), 200)
	expectStatus(t, e.get("/api", "apikey: k-app_1"), 429)
	expectStatus(t, e.get("/api", "apikey: k-app_2"), 200) // its own counter

	// A whitelist change elsewhere on the route keeps the counters.
	plugins["consumer-restriction"] = map[string]any{"whitelist": []string{"app_1"}}
	e.put("routes/1", route("/api", up, map[string]any{"plugins": plugins}))
	expectStatus(t, e.get("/api", "apikey: k-app_1"), 429)
	expectStatus(t, e.get("/api", "apikey: k-app_2"), 403)
	// A change of the limit itself starts new counters.
	plugins["limit-count"] = map[string]any{"count": 5, "time_window": 60, "key_type": "var", "key": "consumer_name", "rejected_code": 429}
	e.put("routes/1", route("/api", up, map[string]any{"plugins": plugins}))
	r := e.get("/api", "apikey: k-app_1")
	expectStatus(t, r, 200)
	if r.Header.Get("X-RateLimit-Remaining") != "4" {
		t.Fatalf("remaining %q", r.Header.Get("X-RateLimit-Remaining"))
	}
}

// A limit set on a service counts the requests of all its routes together,
// as APISIX keys the counter by the resource the plugin is configured on.
func TestLimitCountOnServiceIsShared(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("services/s1", map[string]any{"upstream": map[string]any{"nodes": []any{up}},
		"plugins": map[string]any{"limit-count": map[string]any{"count": 2, "time_window": 60, "key_type": "constant", "key": "all"}}})
	e.put("routes/r1", map[string]any{"uri": "/a", "service_id": "s1"})
	e.put("routes/r2", map[string]any{"uri": "/b", "service_id": "s1"})
	expectStatus(t, e.get("/a"), 200)
	expectStatus(t, e.get("/b"), 200)
	expectStatus(t, e.get("/a"), 503)
	expectStatus(t, e.get("/b"), 503)
}

// A consumer's own plugins win over the route's once the consumer is known
// (APISIX's merge_consumer_route).
func TestConsumerPluginsOverrideRoute(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("consumers/gold", map[string]any{"username": "gold", "plugins": map[string]any{
		"key-auth":    map[string]any{"key": encKey(t, "gold-key")},
		"limit-count": map[string]any{"count": 3, "time_window": 60, "rejected_code": 429},
	}})
	e.put("consumers/basic", map[string]any{"username": "basic", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "basic-key")}}})
	e.put("routes/1", route("/api", up, map[string]any{"plugins": map[string]any{
		"key-auth":    map[string]any{},
		"limit-count": map[string]any{"count": 1, "time_window": 60, "rejected_code": 429, "key": "consumer_name"},
	}}))
	expectStatus(t, e.get("/api", "apikey: basic-key"), 200)
	expectStatus(t, e.get("/api", "apikey: basic-key"), 429)
	for i := 0; i < 3; i++ {
		r := e.get("/api", "apikey: gold-key")
		expectStatus(t, r, 200)
		if r.Header.Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("gold limit header %q", r.Header.Get("X-RateLimit-Limit"))
		}
	}
	expectStatus(t, e.get("/api", "apikey: gold-key"), 429)
}
