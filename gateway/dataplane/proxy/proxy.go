// Package proxy is the node's HTTP proxy core on valyala/fasthttp: it
// matches a route in the current snapshot, runs the route's plugins and
// forwards the request to an upstream node over pooled keep-alive
// connections, answering 502/504 as APISIX does when the upstream fails.
package proxy

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/metrics"
	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/router"
)

// Core serves the node's HTTP traffic; the fasthttp server is one
// implementation, kept behind this interface so the node does not depend
// on it.
type Core interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// Observer is told about every finished request (metrics). It must be cheap.
type Observer interface {
	Observe(routeID, consumer string, slot *metrics.Slot, status int, total, upstream time.Duration)
}

// Options configure a Proxy.
type Options struct {
	// Snapshot returns the configuration to serve each request with.
	Snapshot func() *config.Snapshot
	Observer Observer     // nil: none
	Logger   *slog.Logger // errors, and access logs when AccessLog
	// AccessLog writes one structured line per request.
	AccessLog bool
	// MaxConnsPerNode bounds the connections to one upstream node (default 1024).
	MaxConnsPerNode int
}

// Proxy is the fasthttp proxy core.
type Proxy struct {
	opts   Options
	server *fasthttp.Server

	mu      sync.RWMutex
	clients map[clientKey]*fasthttp.HostClient

	ctxPool sync.Pool
	port    atomic.Value // string: the listener's port, for X-Forwarded-Port
}

type clientKey struct {
	addr     string
	tls      bool
	timeouts balancer.Timeouts
}

// New makes a proxy.
func New(opts Options) *Proxy {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxConnsPerNode == 0 {
		opts.MaxConnsPerNode = 1024
	}
	p := &Proxy{opts: opts, clients: map[clientKey]*fasthttp.HostClient{}}
	p.ctxPool.New = func() any { return &plugin.Ctx{} }
	p.server = &fasthttp.Server{
		Handler:               p.Handle,
		Name:                  "APISIX",
		MaxRequestBodySize:    64 << 20,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadTimeout:           60 * time.Second,
		IdleTimeout:           75 * time.Second,
		Logger:                fasthttpLogger{opts.Logger},
	}
	return p
}

// Serve serves ln until Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.port.Store(portOf(ln.Addr()))
	return p.server.Serve(yieldListener{ln})
}

func (p *Proxy) localPort(ctx *fasthttp.RequestCtx) string {
	if s, ok := p.port.Load().(string); ok && s != "" {
		return s
	}
	return portOf(ctx.LocalAddr())
}

// Shutdown stops accepting and waits for in-flight requests.
func (p *Proxy) Shutdown(ctx context.Context) error {
	err := p.server.ShutdownWithContext(ctx)
	p.mu.Lock()
	for _, c := range p.clients {
		c.CloseIdleConnections()
	}
	p.mu.Unlock()
	return err
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug("fasthttp", "msg", format, "args", args)
}

// b2s views b as a string for the duration of the request, without a copy.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// b2b views s as bytes, without a copy; they must not be written to.
func b2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

var notFound = plugin.JSONReply(404, "error_msg", "404 Route Not Found")

// Handle serves one request.
func (p *Proxy) Handle(ctx *fasthttp.RequestCtx) {
	start := ctx.Time() // read once by fasthttp when the request arrived
	snap := p.opts.Snapshot()
	c := p.ctxPool.Get().(*plugin.Ctx)
	defer func() {
		c.Reset()
		p.ctxPool.Put(c)
	}()

	var ip netip.Addr
	if pc, ok := ctx.Conn().(peerConn); ok {
		ip, c.RemoteAddr = pc.peer()
	}
	if !ip.IsValid() {
		ip = remoteAddr(ctx)
		c.RemoteAddr = ip.String()
	}
	if p.opts.AccessLog {
		// Plugins and forwarding rewrite the request; log what the client sent.
		c.LogMethod = string(ctx.Method())
		c.LogURI = string(ctx.RequestURI())
	}
	c.Req = &ctx.Request
	c.Host = hostOf(ctx)
	c.Path = b2s(ctx.Path())
	c.Dir = snap

	req := router.Request{Method: b2s(ctx.Method()), Host: c.Host, Path: c.Path, RemoteAddr: ip, Var: c.Var}
	rt := snap.Router.Match(&req)
	if rt == nil {
		p.reply(ctx, notFound)
		p.finish(ctx, c, "", time.Since(start), 0)
		return
	}
	route := rt.Value
	c.RouteID = route.ID
	c.ServiceID = route.ServiceID
	if route.Reject != 0 {
		p.reply(ctx, plugin.StatusReply(route.Reject))
		p.finish(ctx, c, route.ID, time.Since(start), 0)
		return
	}
	if r := route.Plugins.Run(c); r != nil {
		p.reply(ctx, r)
		p.finish(ctx, c, route.ID, time.Since(start), 0)
		return
	}
	if route.Upstream == nil {
		p.reply(ctx, plugin.StatusReply(route.Status))
		p.finish(ctx, c, route.ID, time.Since(start), 0)
		return
	}
	// Both durations from the monotonic clock alone (cheaper than time.Now).
	before := time.Since(start)
	if route.WebSocket && isWebSocket(ctx) {
		p.websocket(ctx, c, route)
	} else {
		p.forward(ctx, c, route)
	}
	total := time.Since(start)
	p.finish(ctx, c, route.ID, total, total-before)
}

// finish counts and logs a request that took total, upstream of it waiting
// on the upstream.
func (p *Proxy) finish(ctx *fasthttp.RequestCtx, c *plugin.Ctx, routeID string, total, upstream time.Duration) {
	status := ctx.Response.StatusCode()
	consumer := ""
	var slot *metrics.Slot
	if c.Consumer != nil {
		consumer, slot = c.Consumer.Username, &c.Consumer.Stats
	}
	if p.opts.Observer != nil {
		p.opts.Observer.Observe(routeID, consumer, slot, status, total, upstream)
	}
	if p.opts.AccessLog {
		p.opts.Logger.Info("access",
			"remote_addr", c.RemoteAddr,
			"method", c.LogMethod,
			"host", c.Host,
			"uri", c.LogURI,
			"status", status,
			"bytes", len(ctx.Response.Body()),
			"route_id", routeID,
			"consumer", consumer,
			"request_time", total.Seconds(),
			"upstream_time", upstream.Seconds(),
		)
	}
}

func (p *Proxy) reply(ctx *fasthttp.RequestCtx, r *plugin.Reply) {
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(r.Status)
	if r.ContentType != "" {
		ctx.Response.Header.SetContentType(r.ContentType)
	}
	for _, h := range r.Headers {
		ctx.Response.Header.Set(h.Key, h.Value)
	}
	ctx.Response.Header.SetServer("APISIX")
	ctx.Response.SetBodyRaw(r.Body)
}

func remoteAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// hostOf is $host: the Host header without port, lower case.
func hostOf(ctx *fasthttp.RequestCtx) string {
	h := ctx.Request.Header.Host()
	if i := lastColon(h); i >= 0 {
		h = h[:i]
	}
	for _, ch := range h {
		if ch >= 'A' && ch <= 'Z' {
			b := make([]byte, len(h))
			for i, ch := range h {
				if ch >= 'A' && ch <= 'Z' {
					ch += 'a' - 'A'
				}
				b[i] = ch
			}
			return string(b)
		}
	}
	return b2s(h)
}

func lastColon(h []byte) int {
	for i := len(h) - 1; i >= 0; i-- {
		switch h[i] {
		case ':':
			return i
		case ']':
			return -1
		}
	}
	return -1
}

func portOf(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok {
		return strconv.Itoa(a.Port)
	}
	return ""
}
