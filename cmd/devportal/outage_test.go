package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/internal/etcdtest"
)

// The whole product on an external etcd that the test stops and restarts.
// While etcd is down: /readyz answers 503 naming etcd, admin actions
// (approve, revoke, publish) are still accepted and recorded, and the data
// plane keeps serving its last good configuration. Once etcd is back every
// recorded change is applied, in order, once, and etcd is what the database
// says.
func TestEtcdOutageThroughTheWholeProduct(t *testing.T) {
	const token = "outage-admin-token-0123456789"
	ext, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ext.Close) // after the product has stopped (cleanups run last-in first-out)
	cfg, err := loadConfig([]string{
		"--data-dir", t.TempDir(),
		"--listen", freeAddr(t),
		"--etcd-endpoints", strings.Join(ext.Endpoints(), ","),
		"--gateway-listen", freeAddr(t),
		"--shutdown-timeout", "10s",
	}, func(k string) string {
		if k == "DEVPORTAL_ADMIN_TOKEN" {
			return token
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	start(t, cfg)
	api := adminAPI{t: t, base: "http://" + cfg.Listen + "/api/v1", token: token}
	gw := "http://" + cfg.GatewayListen

	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s", r.URL.Path)
	}))
	defer up.Close()
	upPort := up.Listener.Addr().(*net.TCPAddr).Port

	// A published service, its route on the portal with key auth, and two
	// applications: A approved, B pending.
	tpl := api.must(201, "POST", "/service_templates", fmt.Sprintf(`{"name":"shop","upstream":{"nodes":[{"host":"127.0.0.1","port":%d}]},
		"routes":[{"name":"orders","paths":["/orders"]}]}`, upPort))
	svc := api.must(200, "POST", "/service_templates/"+tpl["id"].(string)+"/publish", `{"gateway_group_id":"default","version":"1","service_id":"shop"}`)
	route := svc["routes"].([]any)[0].(map[string]any)
	routeID, routeTemplateID := route["id"].(string), route["template_id"].(string)
	portalAPI := api.must(201, "POST", "/portal/apis", fmt.Sprintf(`{"gateway_group_id":"default","service_id":"shop","route_id":%q,
		"name":"Orders","auth":"key-auth","approval":"manual"}`, routeID))
	api.must(200, "POST", "/portal/apis/"+portalAPI["id"].(string)+"/publish", "")
	org := api.must(201, "POST", "/organizations", `{"name":"acme"}`)
	app := func(name string) (id, key string) {
		a := api.must(201, "POST", "/organizations/"+org["id"].(string)+"/applications", `{"name":"`+name+`"}`)
		return a["id"].(string), a["api_key"].(string)
	}
	subscribe := func(appID string) string {
		s := api.must(201, "POST", "/subscriptions", fmt.Sprintf(`{"application_id":%q,"api_id":%q}`, appID, portalAPI["id"]))
		return s["id"].(string)
	}
	appA, keyA := app("a")
	appB, keyB := app("b")
	subA, subB := subscribe(appA), subscribe(appB)
	api.must(200, "POST", "/subscriptions/"+subA+"/approve", "")
	awaitCall(t, gw+"/orders", keyA, 200)
	awaitCall(t, gw+"/orders", keyB, 403)

	// etcd goes away.
	ext.Stop()
	ready := awaitReady(t, "http://"+cfg.Listen, 503)
	if !strings.Contains(ready, `"etcd"`) || !strings.Contains(ready, `"not_ready"`) {
		t.Fatalf("/readyz during the outage = %s, want the etcd check named", ready)
	}

	// Admin actions are accepted and recorded meanwhile.
	api.must(200, "POST", "/subscriptions/"+subB+"/approve", "")
	api.must(200, "POST", "/subscriptions/"+subA+"/revoke", `{"reason":"contract ended"}`)
	appC, keyC := app("c") // a new consumer, its key and its subscription
	api.must(200, "POST", "/subscriptions/"+subscribe(appC)+"/approve", "")
	api.must(200, "PUT", "/service_templates/"+tpl["id"].(string), fmt.Sprintf(`{"name":"shop","upstream":{"nodes":[{"host":"127.0.0.1","port":%d}]},
		"routes":[{"name":"orders","template_id":%q,"paths":["/orders"]},{"name":"extra","paths":["/extra"]}]}`, upPort, routeTemplateID))
	v2 := api.must(202, "POST", "/service_templates/"+tpl["id"].(string)+"/publish", `{"gateway_group_id":"default","version":"2"}`)
	if v2["pending"] != true {
		t.Fatalf("publish during the outage = %v, want pending", v2)
	}
	if n := api.must(200, "GET", "/outbox", "")["pending"].(float64); n < 3 {
		t.Fatalf("outbox holds %v changes during the outage, want the approval, the revocation and the publish", n)
	}
	// The data plane keeps its last good configuration.
	for key, want := range map[string]int{keyA: 200, keyB: 403, keyC: 401} {
		if got := call(t, gw+"/orders", key); got != want {
			t.Fatalf("data plane during the outage: %d, want %d (its last configuration)", got, want)
		}
	}
	if got := call(t, gw+"/extra", ""); got != 404 {
		t.Fatalf("/extra during the outage = %d, want 404 (not live yet)", got)
	}

	// etcd is back: every change lands.
	if err := ext.Restart(); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, "http://"+cfg.Listen, 200)
	awaitCall(t, gw+"/orders", keyA, 403)
	awaitCall(t, gw+"/orders", keyB, 200)
	awaitCall(t, gw+"/orders", keyC, 200)
	awaitCall(t, gw+"/extra", "", 200)
	deadline := time.Now().Add(30 * time.Second)
	for api.must(200, "GET", "/outbox", "")["pending"].(float64) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not drain after etcd came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Once and in order: the whitelist holds B and C, once each, and not A.
	if wl := whitelist(t, ext.Endpoints(), "/apisix/routes/"+routeID); fmt.Sprint(wl) != "[app_"+appB+" app_"+appC+"]" {
		t.Fatalf("whitelist after the outage = %v, want B's and C's consumers", wl)
	}
	if rep := api.must(200, "GET", "/gateway_groups/default/drift", ""); len(rep["drift"].([]any)) != 0 {
		t.Fatalf("drift after the outage: %v", rep["drift"])
	}
}

// adminAPI calls the Admin API with a token.
type adminAPI struct {
	t     *testing.T
	base  string
	token string
}

// must sends a request, checks its status and decodes the JSON answer.
func (a adminAPI) must(status int, method, path, body string) map[string]any {
	a.t.Helper()
	code, out := get(a.t, method, a.base+path, a.token, body)
	if code != status {
		a.t.Fatalf("%s %s = %d %s, want %d", method, path, code, out, status)
	}
	m := map[string]any{}
	if out != "" {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
	return m
}

// call sends GET url with an apikey header (none when key is empty) to the data plane.
func call(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("apikey", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func awaitCall(t *testing.T, url, key string, status int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		if got = call(t, url, key); got == status {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET %s = %d, want %d within 30s", url, got, status)
}

// awaitReady polls /readyz until it answers status, and returns its body.
func awaitReady(t *testing.T, base string, status int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	code, body := 0, ""
	for time.Now().Before(deadline) {
		if code, body = get(t, "GET", base+"/readyz", "", ""); code == status {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz = %d %s, want %d within 30s", code, body, status)
	return ""
}

// whitelist reads a route's consumer-restriction whitelist from etcd.
func whitelist(t *testing.T, endpoints []string, key string) []string {
	t.Helper()
	cli, ctx := etcdClient(t, endpoints)
	resp, err := cli.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 {
		all, _ := cli.Get(ctx, "/apisix/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		t.Fatalf("read %s: %v; etcd holds %v", key, err, all.Kvs)
	}
	var route struct {
		Plugins struct {
			CR struct {
				Whitelist []string `json:"whitelist"`
			} `json:"consumer-restriction"`
		} `json:"plugins"`
	}
	json.Unmarshal(resp.Kvs[0].Value, &route)
	return route.Plugins.CR.Whitelist
}
