package dataplane

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
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
	for _, path := range []string{"/status", "/status/ready"} {
		s, err := http.Get("http://" + e.node.MetricsAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := io.ReadAll(s.Body)
		s.Body.Close()
		if s.StatusCode != 200 || string(sb) != `{"status":"ok"}` {
			t.Fatalf("%s: %d %s", path, s.StatusCode, sb)
		}
	}
	for _, want := range []string{
		`apisix_http_status{code="200",consumer="jack",node="` + e.node.ID() + `",route="r1"} 1`,
		`apisix_http_status{code="401",consumer="",node="` + e.node.ID() + `",route="r1"} 1`,
		`apisix_http_status{code="404",consumer="",node="` + e.node.ID() + `",route=""} 1`,
		`apisix_http_latency_bucket{consumer="",node="` + e.node.ID() + `",route="r1",type="request"`,
		`apisix_dataplane_config_objects{kind="routes"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAccessLogOnAndOff(t *testing.T) {
	var on, off lockedBuffer
	eOn := newEnv(t, func(c *Config) { c.AccessLog = true; c.Logger = slog.New(slog.NewJSONHandler(&on, nil)) })
	eOff := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&off, nil)) })
	_, up := echoUpstream(t, "a")
	for _, e := range []*env{eOn, eOff} {
		e.put("routes/r1", route("/logged", up, map[string]any{"plugins": map[string]any{"proxy-rewrite": map[string]any{"uri": "/rewritten"}}}))
		expectStatus(t, e.get("/logged?x=1"), 200)
	}
	eventually(t, 5*time.Second, func() bool { return strings.Contains(on.String(), `"msg":"access"`) })
	line := on.String()
	for _, want := range []string{`"uri":"/logged?x=1"`, `"status":200`, `"route_id":"r1"`, `"method":"GET"`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log lacks %s: %s", want, line)
		}
	}
	if strings.Contains(off.String(), `"msg":"access"`) {
		t.Fatalf("access log written while off")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
