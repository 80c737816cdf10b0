package dataplane

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsAndAccessLogFlag(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AccessLog = true })
	_, up := echoUpstream(t, "a")
	e.put("consumers/jack", map[string]any{"username": "jack", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "k")}}})
	e.put("routes/r1", keyAuthRoute("/m", up, map[string]any{}, nil))
	expectStatus(t, e.get("/m", "apikey: k"), 200)
	expectStatus(t, e.get("/m"), 401)
	expectStatus(t, e.get("/none"), 404)

	r, err := http.Get("http://" + e.node.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	body := string(b)
	for _, want := range []string{
		`apisix_http_status{code="200",consumer="jack",node="` + e.node.ID() + `",route="r1"} 1`,
		`apisix_http_status{code="401",consumer="",node="` + e.node.ID() + `",route="r1"} 1`,
		`apisix_http_status{code="404",consumer="",node="` + e.node.ID() + `",route=""} 1`,
		`apisix_http_latency_bucket{consumer="jack",node="` + e.node.ID() + `",route="r1",type="request"`,
		`apisix_dataplane_config_objects{kind="routes"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
