package dataplane

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"devportal/gateway/apisix"
)

func TestUpstreamFailures502And504(t *testing.T) {
	e := newEnv(t)
	// A port nobody listens on: connection refused -> 502.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := nodeOf(t, "http://"+l.Addr().String())
	l.Close()
	e.put("routes/dead", route("/dead", dead, nil))
	r := e.get("/dead")
	expectStatus(t, r, 502)
	if r.Header.Get("Content-Type") != "text/html; charset=utf-8" || !contains(r.Body, "502 Bad Gateway") {
		t.Fatalf("502 page: %q %q", r.Header.Get("Content-Type"), r.Body)
	}
	// An upstream slower than the read timeout -> 504.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	e.put("routes/slow", map[string]any{"uri": "/slow", "upstream": map[string]any{
		"nodes": []any{nodeOf(t, slow.URL)}, "timeout": map[string]any{"connect": 1, "send": 1, "read": 0.3}}})
	r = e.get("/slow")
	expectStatus(t, r, 504)
	if !contains(r.Body, "504 Gateway Time-out") {
		t.Fatalf("504 page %q", r.Body)
	}
	// The route's timeout overrides the upstream's.
	e.put("routes/slow2", map[string]any{"uri": "/slow2", "timeout": map[string]any{"read": 0.2},
		"upstream": map[string]any{"nodes": []any{nodeOf(t, slow.URL)}}})
	expectStatus(t, e.get("/slow2"), 504)
	// No upstream configured at all: 503.
	e.put("routes/none", map[string]any{"uri": "/none", "plugins": map[string]any{"proxy-rewrite": map[string]any{"uri": "/x"}}})
	expectStatus(t, e.get("/none"), 503)
	// A dead node among live ones: the request is retried on another node.
	_, live := echoUpstream(t, "live")
	e.put("routes/mixed", map[string]any{"uri": "/mixed", "upstream": map[string]any{"nodes": []any{dead, live}}})
	for i := 0; i < 4; i++ {
		expectStatus(t, e.get("/mixed"), 200)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (func() bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
		return false
	})()
}

func TestWeightedRoundRobinAndCHash(t *testing.T) {
	e := newEnv(t)
	_, a := echoUpstream(t, "a")
	_, b := echoUpstream(t, "b")
	a.Weight, b.Weight = 3, 1
	e.put("upstreams/w", map[string]any{"type": "roundrobin", "nodes": []apisix.Node{a, b}})
	e.put("routes/w", map[string]any{"uri": "/w", "upstream_id": "w"})
	counts := map[string]int{}
	for i := 0; i < 40; i++ {
		counts[e.get("/w").Header.Get("X-Upstream")]++
	}
	if counts["a"] != 30 || counts["b"] != 10 {
		t.Fatalf("weighted split %v, want a:30 b:10", counts)
	}
	// chash on a header: the same key always goes to the same node.
	e.put("upstreams/h", map[string]any{"type": "chash", "hash_on": "header", "key": "X-User", "nodes": []apisix.Node{a, b}})
	e.put("routes/h", map[string]any{"uri": "/h", "upstream_id": "h"})
	seen := map[string]string{}
	for i := 0; i < 30; i++ {
		user := string(rune('a' + i%6))
		got := e.get("/h", "X-User: "+user).Header.Get("X-Upstream")
		if prev, ok := seen[user]; ok && prev != got {
			t.Fatalf("user %s moved from %s to %s", user, prev, got)
		}
		seen[user] = got
	}
	// Weight 0 takes a node out.
	b.Weight = 0
	e.put("upstreams/w", map[string]any{"type": "roundrobin", "nodes": []apisix.Node{a, b}})
	for i := 0; i < 5; i++ {
		if got := e.get("/w").Header.Get("X-Upstream"); got != "a" {
			t.Fatalf("weight 0 node used: %s", got)
		}
	}
}

func TestPassHostAndForwardedHeaders(t *testing.T) {
	e := newEnv(t)
	srv, up := echoUpstream(t, "a")
	_ = srv
	e.put("routes/pass", route("/pass", up, nil))
	e.put("routes/node", map[string]any{"uri": "/node", "upstream": map[string]any{"pass_host": "node", "nodes": []any{up}}})
	e.put("routes/rewrite", map[string]any{"uri": "/rewrite", "upstream": map[string]any{"pass_host": "rewrite", "upstream_host": "up.example.com", "nodes": []any{up}}})
	got := e.get("/pass", "Host: client.example.com", "X-Forwarded-For: 10.0.0.1", "X-Forwarded-Host: evil", "Forwarded: for=1.2.3.4").echo(t)
	_, port, _ := net.SplitHostPort(e.node.Addr())
	if got.Headers.Get("X-Forwarded-Host") != "client.example.com" || got.Headers.Get("X-Forwarded-Port") != port ||
		got.Headers.Get("X-Forwarded-Proto") != "http" || got.Headers.Get("Forwarded") != "" {
		t.Fatalf("X-Forwarded-* %v", got.Headers)
	}
	if got.Host != "client.example.com" {
		t.Fatalf("pass: host %q", got.Host)
	}
	if got.Headers.Get("X-Real-Ip") != "127.0.0.1" || got.Headers.Get("X-Forwarded-For") != "10.0.0.1, 127.0.0.1" {
		t.Fatalf("forwarded headers %v", got.Headers)
	}
	if got := e.get("/node", "Host: client.example.com").echo(t).Host; got != up.Addr() {
		t.Fatalf("node: host %q, want %q", got, up.Addr())
	}
	if got := e.get("/rewrite").echo(t).Host; got != "up.example.com" {
		t.Fatalf("rewrite: host %q", got)
	}
}

// Connections to the upstream are reused across requests.
func TestUpstreamConnectionReuse(t *testing.T) {
	e := newEnv(t)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	e.put("routes/r", route("/r", nodeOf(t, srv.URL), nil))
	for i := 0; i < 20; i++ {
		expectStatus(t, e.get("/r"), 200)
	}
	if n := conns.Load(); n > 2 {
		t.Fatalf("%d upstream connections for 20 sequential requests", n)
	}
}

func TestHTTPSUpstream(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("tls:" + r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	n := nodeOf(t, srv.URL)
	e.put("routes/tls", map[string]any{"uri": "/tls", "upstream": map[string]any{"scheme": "https", "nodes": []any{n}}})
	r := e.get("/tls")
	expectBody(t, r, 200, "tls:/tls")
}

func TestRequestBodyAndHopByHopHeaders(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Got-Te", r.Header.Get("Te"))
		w.Header().Set("X-Got-Proxy-Connection", r.Header.Get("Proxy-Connection"))
		fmt.Fprintf(w, "%s %d %s", r.Method, len(b), b[:5])
	}))
	t.Cleanup(srv.Close)
	e.put("routes/b", route("/body", nodeOf(t, srv.URL), nil))
	body := strings.Repeat("x", 1<<20)
	req, _ := http.NewRequest("POST", "http://"+e.node.Addr()+"/body", strings.NewReader(body))
	req.Header.Set("Te", "trailers")
	req.Header.Set("Proxy-Connection", "keep-alive")
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != fmt.Sprintf("POST %d xxxxx", len(body)) {
		t.Fatalf("got %d %q", r.StatusCode, b)
	}
	if r.Header.Get("X-Got-Te") != "" || r.Header.Get("X-Got-Proxy-Connection") != "" || r.Header.Get("Keep-Alive") != "" {
		t.Fatalf("hop-by-hop headers forwarded: %v", r.Header)
	}
	if r.Header.Get("Server") != "APISIX" {
		t.Fatalf("Server %q", r.Header.Get("Server"))
	}
}

// enable_websocket: the upgrade reaches the upstream and bytes flow both
// ways afterwards; without it the Upgrade header is not forwarded.
func TestWebSocketUpgrade(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			w.WriteHeader(426)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Host: " + r.Host + "\r\n\r\n")
		rw.Flush()
		buf := make([]byte, 4)
		for {
			if _, err := io.ReadFull(rw, buf); err != nil {
				return
			}
			conn.Write(bytes.ToUpper(buf))
		}
	}))
	t.Cleanup(srv.Close)
	up := nodeOf(t, srv.URL)
	e.put("routes/ws", route("/ws", up, map[string]any{"enable_websocket": true}))
	e.put("routes/plain", route("/plain", up, nil))

	conn, err := net.DialTimeout("tcp", e.node.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("X-Host") != "ws.example.com" {
		t.Fatalf("upgrade answer %d %v", resp.StatusCode, resp.Header)
	}
	for _, msg := range []string{"ping", "pong"} {
		conn.Write([]byte(msg))
		got := make([]byte, 4)
		if _, err := io.ReadFull(br, got); err != nil || string(got) != strings.ToUpper(msg) {
			t.Fatalf("echo %q: %q %v", msg, got, err)
		}
	}
	// A route without enable_websocket does not pass the upgrade on.
	expectStatus(t, e.get("/plain", "Upgrade: websocket", "Connection: Upgrade"), 426)
}
