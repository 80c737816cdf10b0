package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/metrics"
)

// The benchmarks in this file serve requests over in-memory connections on
// both sides, so they count only the node's own (user-space) work per
// request: fasthttp's parsing and writing, routing, the plugins and the
// metrics. The kernel's share (the socket reads and writes, about half of a
// request's CPU on loopback) is left out, and with it most of the noise of
// a shared machine: these figures are the ones to compare builds with.

// memClient is the client side: every Read hands the server one whole
// request, taken in turn from reqs; answers are checked and dropped.
type memClient struct {
	reqs   [][]byte
	next   int
	left   int
	bad    int
	answer []byte
}

func (c *memClient) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, errEnd
	}
	c.left--
	r := c.reqs[c.next]
	c.next++
	if c.next == len(c.reqs) {
		c.next = 0
	}
	return copy(p, r), nil
}

func (c *memClient) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 200 ")) {
		c.bad++
		c.answer = append(c.answer[:0], p...)
	}
	return len(p), nil
}

var errEnd = errors.New("end of the benchmark's requests")

// memUpstream answers each request written to it with a fixed 1 KB response.
type memUpstream struct {
	pending int
	resp    []byte
	off     int
}

// newMemUpstream answers as the benchmark's nginx upstream does: 200 with
// a 1 KB body, keep-alive.
func newMemUpstream() *memUpstream {
	body := strings.Repeat("x", 1023) + "\n"
	return &memUpstream{resp: []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n\r\n" + body)}
}

func (u *memUpstream) Write(p []byte) (int, error) {
	if bytes.HasSuffix(p, []byte("\r\n\r\n")) {
		u.pending++
	}
	return len(p), nil
}

func (u *memUpstream) Read(p []byte) (int, error) {
	if u.pending == 0 {
		return 0, errors.New("memUpstream: read before a request")
	}
	n := copy(p, u.resp[u.off:])
	u.off += n
	if u.off == len(u.resp) {
		u.off = 0
		u.pending--
	}
	return n, nil
}

// The addresses memConns report: made once, as a net.TCPConn caches its own.
var (
	memLocal  net.Addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9080}
	memRemote net.Addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
)

// memConn gives a reader/writer the rest of net.Conn.
type memConn struct {
	rw interface {
		Read([]byte) (int, error)
		Write([]byte) (int, error)
	}
}

func (c memConn) Read(p []byte) (int, error)     { return c.rw.Read(p) }
func (c memConn) Write(p []byte) (int, error)    { return c.rw.Write(p) }
func (memConn) Close() error                     { return nil }
func (memConn) LocalAddr() net.Addr              { return memLocal }
func (memConn) RemoteAddr() net.Addr             { return memRemote }
func (memConn) SetDeadline(time.Time) error      { return nil }
func (memConn) SetReadDeadline(time.Time) error  { return nil }
func (memConn) SetWriteDeadline(time.Time) error { return nil }
func (memConn) peer() (netip.Addr, string) {
	return netip.AddrFrom4([4]byte{127, 0, 0, 1}), "127.0.0.1"
}

// inMemorySnapshot has n consumers with key-auth keys, a route /auth/* with
// the four plugins of the throughput benchmark (key-auth, consumer-restriction
// over all n, limit-count per consumer never reached, proxy-rewrite) and a
// route /plain/* without plugins, both to the upstream "mem:80".
func inMemorySnapshot(b *testing.B, n int) *config.Snapshot {
	kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
	events := make([]config.Event, 0, n+2)
	names := make([]string, n)
	for i := range n {
		u := fmt.Sprintf("app_%d", i)
		names[i] = u
		events = append(events, ev("consumers/"+u, map[string]any{"username": u,
			"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("key-" + u)}}}))
	}
	up := map[string]any{"type": "roundrobin", "nodes": []any{map[string]any{"host": "mem", "port": 80, "weight": 1}}}
	events = append(events,
		ev("routes/auth", map[string]any{"uri": "/auth/*", "upstream": up, "plugins": map[string]any{
			"key-auth":             map[string]any{},
			"consumer-restriction": map[string]any{"whitelist": names},
			"limit-count":          map[string]any{"count": 1 << 40, "time_window": 3600, "key_type": "var", "key": "consumer_name", "rejected_code": 429},
			"proxy-rewrite":        map[string]any{"regex_uri": []string{"^/auth/(.*)", "/$1"}, "headers": map[string]any{"set": map[string]string{"X-Bench": "1"}}},
		}}),
		ev("routes/plain", map[string]any{"uri": "/plain/*", "upstream": up}))
	snap := config.Apply(config.Empty(), events, "/apisix", kr, quiet)
	if snap.Router.Len() != 2 {
		b.Fatalf("snapshot has %d routes, want 2", snap.Router.Len())
	}
	return snap
}

var memSnapshots = map[int]*config.Snapshot{}

// benchInMemory serves b.N requests for path over one client connection,
// each with the key of a random one of n consumers (the route without
// plugins ignores it).
func benchInMemory(b *testing.B, path string, n int) {
	snap := memSnapshots[n]
	if snap == nil {
		snap = inMemorySnapshot(b, n)
		memSnapshots[n] = snap
	}
	p := New(Options{Snapshot: func() *config.Snapshot { return snap }, Logger: quiet, Observer: metrics.New("bench")})
	p.port.Store("9080") // as Serve stores its listener's
	up := newMemUpstream()
	rt, _ := snap.Router.Get("auth")
	// The proxy's client for the upstream, dialing the in-memory one.
	p.clients[clientKey{addr: "mem:80", timeouts: rt.Value.Timeouts}] = &fasthttp.HostClient{
		Addr: "mem:80", DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true, NoDefaultUserAgentHeader: true,
		Dial: func(string) (net.Conn, error) { return memConn{up}, nil },
	}
	rng := rand.New(rand.NewPCG(1, 2))
	reqs := make([][]byte, 4096)
	for i := range reqs {
		reqs[i] = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:9080\r\nUser-Agent: wrk\r\napikey: key-app_%d\r\n\r\n", path, rng.IntN(n))
	}
	// Every consumer seen once before timing, as in a long-running node.
	warm := &memClient{reqs: reqs, left: len(reqs)}
	_ = p.server.ServeConn(memConn{warm})
	client := &memClient{reqs: reqs, left: b.N}
	b.ReportAllocs()
	b.ResetTimer()
	err := p.server.ServeConn(memConn{client})
	b.StopTimer()
	if err != nil && !errors.Is(err, errEnd) {
		b.Fatal(err)
	}
	if warm.bad+client.bad > 0 {
		b.Fatalf("%d answers were not 200, e.g. %q", warm.bad+client.bad, client.answer)
	}
}

// BenchmarkInMemoryPlain: the route without plugins.
func BenchmarkInMemoryPlain(b *testing.B) { benchInMemory(b, "/plain/x", 1000) }

// BenchmarkInMemoryPlugins: the four plugins over 1,000 consumers.
func BenchmarkInMemoryPlugins(b *testing.B) { benchInMemory(b, "/auth/x", 1000) }

// BenchmarkInMemoryPlugins100k: the four plugins over 100,000 consumers, as
// the throughput benchmark runs them (a consumer's data is rarely in cache).
func BenchmarkInMemoryPlugins100k(b *testing.B) { benchInMemory(b, "/auth/x", 100000) }

// BenchmarkInMemoryBareFasthttp is the floor under the node: a fasthttp
// server whose handler only sends the request on with a fasthttp client,
// over the same in-memory connections (no routing, headers or metrics).
func BenchmarkInMemoryBareFasthttp(b *testing.B) {
	up := newMemUpstream()
	hc := &fasthttp.HostClient{Addr: "mem:80", DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true, NoDefaultUserAgentHeader: true,
		Dial: func(string) (net.Conn, error) { return memConn{up}, nil }}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if err := hc.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error(err.Error(), 502)
		}
	}}
	reqs := [][]byte{[]byte("GET /plain/x HTTP/1.1\r\nHost: 127.0.0.1:9080\r\nUser-Agent: wrk\r\napikey: key-app_1\r\n\r\n")}
	_ = srv.ServeConn(memConn{&memClient{reqs: reqs, left: 1000}})
	client := &memClient{reqs: reqs, left: b.N}
	b.ReportAllocs()
	b.ResetTimer()
	err := srv.ServeConn(memConn{client})
	b.StopTimer()
	if err != nil && !errors.Is(err, errEnd) {
		b.Fatal(err)
	}
	if client.bad > 0 {
		b.Fatalf("%d answers were not 200, e.g. %q", client.bad, client.answer)
	}
}
