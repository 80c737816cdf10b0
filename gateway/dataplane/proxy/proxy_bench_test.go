package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/metrics"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// upstream is a fast loopback upstream answering a small body.
func upstream(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("hello world\n") }}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func ev(key string, v any) config.Event {
	bs, _ := json.Marshal(v)
	return config.Event{Key: "/apisix/" + key, Value: bs}
}

// snapshot has 1000 consumers and one route with key-auth,
// consumer-restriction (all of them whitelisted) and limit-count.
func snapshot(b *testing.B, upAddr string) *config.Snapshot {
	kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
	host, port, _ := net.SplitHostPort(upAddr)
	var p int
	fmt.Sscan(port, &p)
	var events []config.Event
	var names []string
	for i := 0; i < 1000; i++ {
		u := fmt.Sprintf("app_%d", i)
		names = append(names, u)
		events = append(events, ev("consumers/"+u, map[string]any{"username": u,
			"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("key-" + u)}}}))
	}
	events = append(events, ev("routes/api", map[string]any{"uri": "/api/*",
		"upstream": map[string]any{"nodes": []any{map[string]any{"host": host, "port": p, "weight": 1}}},
		"plugins": map[string]any{
			"key-auth":             map[string]any{},
			"consumer-restriction": map[string]any{"whitelist": names},
			"limit-count":          map[string]any{"count": 1 << 40, "time_window": 3600, "key_type": "var", "key": "consumer_name", "rejected_code": 429},
		}}))
	return config.Apply(config.Empty(), events, "/apisix", kr, quiet)
}

func serveProxy(b *testing.B, snap *config.Snapshot, withMetrics bool) string {
	opts := Options{Snapshot: func() *config.Snapshot { return snap }, Logger: quiet}
	if withMetrics {
		opts.Observer = metrics.New("bench")
	}
	p := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go p.Serve(ln)
	b.Cleanup(func() { p.server.Shutdown() })
	return ln.Addr().String()
}

func run(b *testing.B, addr, path string, headers ...string) {
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 256}
	b.ReportAllocs()
	b.SetParallelism(16) // 32 requests in flight on 2 cores, like a wrk run
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + path)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		for pb.Next() {
			if err := c.Do(req, resp); err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode() != 200 {
				b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
			}
		}
	})
}

// A full request through the proxy: key-auth, consumer-restriction and
// limit-count, metrics on, to a loopback upstream.
func BenchmarkProxyThreePlugins(b *testing.B) {
	up := upstream(b)
	addr := serveProxy(b, snapshot(b, up), true)
	run(b, addr, "/api/pets", "apikey", "key-app_500")
}

// The same upstream hit directly, for comparison.
func BenchmarkDirectUpstream(b *testing.B) {
	up := upstream(b)
	run(b, up, "/api/pets")
}

// The handler alone, without sockets on the client side (upstream is real).
func BenchmarkHandlerThreePlugins(b *testing.B) {
	up := upstream(b)
	p := New(Options{Snapshot: func() *config.Snapshot { return snapshot(b, up) }, Logger: quiet, Observer: metrics.New("bench")})
	snap := snapshot(b, up)
	p.opts.Snapshot = func() *config.Snapshot { return snap }
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("/api/pets")
	req.Header.SetHost("gw.example.com")
	req.Header.Set("apikey", "key-app_500")
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Init(&req, addr, nil)
		p.Handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}
