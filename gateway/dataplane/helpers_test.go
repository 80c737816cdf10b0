package dataplane

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
	"devportal/internal/etcdtest"
)

// env is one test's prefix, etcd client and node.
type env struct {
	t      *testing.T
	prefix string
	cli    *clientv3.Client
	node   *Node
	member *etcdtest.Member
}

func testLogger() *slog.Logger {
	level := slog.LevelError + 1
	if os.Getenv("DATAPLANE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// newEnv starts a node on a fresh prefix of the shared member; tweak may
// change its config.
func newEnv(t *testing.T, tweak ...func(*Config)) *env {
	t.Helper()
	return newEnvOn(t, etcd, tweak...)
}

func newEnvOn(t *testing.T, m *etcdtest.Member, tweak ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, prefix: etcdtest.Prefix(t), cli: m.Client(t), member: m}
	cfg := Config{
		Endpoints: m.Endpoints(), Prefix: e.prefix, Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0",
		StreamListenHost: "127.0.0.1", Logger: testLogger(), HeartbeatTTL: 2 * time.Second,
		ShutdownTimeout: 5 * time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Start's ctx bounds the node's life: Close in Cleanup ends it.
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	e.node = n
	return e
}

// put writes value (a JSON string or any value marshalled) under P/<rel>
// and waits until the node has applied it.
func (e *env) put(rel string, value any) {
	e.t.Helper()
	var s string
	switch v := value.(type) {
	case string:
		s = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		s = string(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.cli.Put(ctx, e.prefix+"/"+rel, s)
	if err != nil {
		e.t.Fatalf("put %s: %v", rel, err)
	}
	e.waitRev(resp.Header.Revision)
}

func (e *env) del(rel string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.cli.Delete(ctx, e.prefix+"/"+rel)
	if err != nil {
		e.t.Fatalf("delete %s: %v", rel, err)
	}
	e.waitRev(resp.Header.Revision)
}

// waitRev waits until the node's snapshot includes revision rev.
func (e *env) waitRev(rev int64) {
	e.t.Helper()
	eventually(e.t, 10*time.Second, func() bool { return e.node.Snapshot().Rev >= rev })
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echo is a real upstream on loopback that answers with what it received.
type echoed struct {
	Path    string      `json:"path"`
	URI     string      `json:"uri"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Method  string      `json:"method"`
	Headers http.Header `json:"headers"`
	Server  string      `json:"server"`
}

func echoUpstream(t *testing.T, name string) (*httptest.Server, apisix.Node) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", name)
		json.NewEncoder(w).Encode(echoed{Path: r.URL.Path, URI: r.RequestURI, Query: r.URL.RawQuery, Host: r.Host,
			Method: r.Method, Headers: r.Header, Server: name})
	}))
	t.Cleanup(srv.Close)
	return srv, nodeOf(t, srv.URL)
}

func nodeOf(t *testing.T, rawURL string) apisix.Node {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port := 0
	for _, ch := range u.Port() {
		port = port*10 + int(ch-'0')
	}
	return apisix.Node{Host: u.Hostname(), Port: port, Weight: 1}
}

// resp is a response read whole.
type resp struct {
	Status int
	Header http.Header
	Body   string
}

func (r resp) echo(t *testing.T) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("not an echo (status %d): %q", r.Status, r.Body)
	}
	return e
}

var client = &http.Client{Timeout: 30 * time.Second}

// do sends a request to the node; headers are "Name: value" strings, and a
// "Host: x" one sets the Host.
func (e *env) do(method, path string, headers ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.node.Addr()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Add(k, v)
	}
	r, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Header: r.Header, Body: string(b)}
}

func (e *env) get(path string, headers ...string) resp {
	e.t.Helper()
	return e.do("GET", path, headers...)
}

func expectStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %q", r.Status, want, r.Body)
	}
}

func expectBody(t *testing.T, r resp, status int, body string) {
	t.Helper()
	if r.Status != status || r.Body != body {
		t.Fatalf("got %d %q, want %d %q", r.Status, r.Body, status, body)
	}
}

// route builds an APISIX route JSON object.
func route(uri string, up apisix.Node, extra map[string]any) map[string]any {
	r := map[string]any{"uri": uri, "upstream": map[string]any{"type": "roundrobin", "nodes": []apisix.Node{up}}}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

// slowServer answers after d, telling started when a request arrives.
func slowServer(t *testing.T, started chan<- struct{}, d time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		time.Sleep(d)
		w.Write([]byte("slow ok"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
