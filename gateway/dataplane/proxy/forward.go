package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/plugin"
)

func (p *Proxy) forward(ctx *fasthttp.RequestCtx, c *plugin.Ctx, route *config.Route) {
	up := route.Upstream
	req := &ctx.Request
	clientClose := req.Header.ConnectionClose()
	clientHost := string(req.Header.Host())
	// c.Host and c.Path view the request's buffers, which forwarding
	// rewrites; keep copies for the balancer (retries) and the logs.
	if c.Host == clientHost {
		c.Host = clientHost // the usual case: one copy for both
	} else {
		c.Host = strings.Clone(c.Host)
	}
	c.Path = strings.Clone(c.Path)

	// The URI sent upstream: proxy-rewrite's, or the normalized request path
	// with its (possibly edited) query.
	if c.UpstreamURI != nil {
		req.SetRequestURIBytes(c.UpstreamURI)
	} else {
		req.SetRequestURIBytes(req.URI().RequestURI())
	}
	if up.Scheme == "https" {
		req.URI().SetScheme("https")
	} else {
		req.URI().SetScheme("http")
	}
	// Deleting a header normalizes its name and searches every header, six
	// times over; most requests have none of them.
	if c.AddedHopHeader || plugin.SentHeader(req.Header.RawHeaders(), plugin.IsHopHeader) {
		for _, h := range plugin.HopHeaders {
			req.Header.Del(h)
		}
	}
	req.Header.ResetConnectionClose()
	p.setForwarded(ctx, c, clientHost)
	req.UseHostHeader = true

	var tried [4]*balancer.Node
	triedList := tried[:0]
	var err error
	for attempt := 0; attempt <= up.Retries; attempt++ {
		node := up.Picker.Pick(c, triedList)
		if node == nil {
			break
		}
		triedList = append(triedList, node)
		switch {
		case c.UpstreamHost != "":
			req.Header.SetHost(c.UpstreamHost)
		case up.PassHost == "node":
			req.Header.SetHost(nodeHost(up, node))
		case up.PassHost == "rewrite":
			req.Header.SetHost(up.UpstreamHost)
		default:
			req.Header.SetHost(clientHost)
		}
		hc := p.client(node.Addr, up.Scheme == "https", route.Timeouts)
		// The client's ReadTimeout and WriteTimeout bound each read and
		// write, as nginx's proxy_read_timeout and proxy_send_timeout do.
		err = hc.Do(req, &ctx.Response)
		if err == nil || !retryable(err) {
			break
		}
	}
	if err != nil || len(triedList) == 0 {
		status := 502
		if err != nil && isTimeout(err) {
			status = 504
		}
		if err != nil {
			p.opts.Logger.Warn("proxy: upstream failed", "route_id", route.ID, "err", err, "status", status)
		}
		p.reply(ctx, plugin.StatusReply(status))
		if clientClose {
			ctx.SetConnectionClose()
		}
		return
	}
	resp := &ctx.Response
	dropHopHeaders(&resp.Header)
	resp.Header.ResetConnectionClose()
	if clientClose {
		ctx.SetConnectionClose()
	}
	resp.Header.SetServer("APISIX")
	for _, h := range c.RespHeaders {
		resp.Header.Set(h.Key, h.Value)
	}
}

// dropHopHeaders deletes the hop-by-hop headers of an upstream's response,
// whose names keep the case the upstream sent (the client does not
// normalize them). Each pass deletes one name; there are at most six.
func dropHopHeaders(h *fasthttp.ResponseHeader) {
	for range len(plugin.HopHeaders) + 1 {
		var name [16]byte // the longest, Proxy-Connection
		n := 0
		for k := range h.All() {
			if plugin.IsHopHeader(k) {
				n = copy(name[:], k)
				break
			}
		}
		if n == 0 {
			return
		}
		h.DelBytes(name[:n])
	}
}

// The headers setForwarded sets, in the form the server's request headers
// keep names (normalized), so that setting one skips normalizing a copy.
var (
	hdrXRealIP         = []byte("X-Real-Ip")
	hdrXForwardedFor   = []byte("X-Forwarded-For")
	hdrXForwardedProto = []byte("X-Forwarded-Proto")
	hdrXForwardedHost  = []byte("X-Forwarded-Host")
	hdrXForwardedPort  = []byte("X-Forwarded-Port")
	valueHTTP          = []byte("http")
	forwardedForJoiner = []byte(", ")
)

// setForwarded sets the X-Real-IP and X-Forwarded-* headers as APISIX's
// ngx_tpl does with no trusted_addresses: the client's X-Forwarded-Proto,
// Host and Port and Forwarded are replaced by what this hop observed (the
// Host header as sent, port and case kept); the X-Forwarded-For chain is
// kept and extended.
func (p *Proxy) setForwarded(ctx *fasthttp.RequestCtx, c *plugin.Ctx, clientHost string) {
	h := &ctx.Request.Header
	h.SetCanonical(hdrXRealIP, b2b(c.RemoteAddr))
	if prior := h.PeekBytes(hdrXForwardedFor); len(prior) > 0 {
		chain := make([]byte, 0, len(prior)+len(forwardedForJoiner)+len(c.RemoteAddr))
		chain = append(append(append(chain, prior...), forwardedForJoiner...), c.RemoteAddr...)
		h.SetCanonical(hdrXForwardedFor, chain)
	} else {
		h.SetCanonical(hdrXForwardedFor, b2b(c.RemoteAddr))
	}
	h.SetCanonical(hdrXForwardedProto, valueHTTP)
	h.SetCanonical(hdrXForwardedHost, b2b(clientHost))
	h.Del("Forwarded")
	h.SetCanonical(hdrXForwardedPort, b2b(p.localPort(ctx)))
}

func nodeHost(up *balancer.Upstream, n *balancer.Node) string {
	if (up.Scheme == "https" && n.Port == 443) || (up.Scheme != "https" && n.Port == 80) {
		return n.Host
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
}

// retryable errors happened before the request reached the upstream.
func retryable(err error) bool {
	if errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (p *Proxy) client(addr string, isTLS bool, to balancer.Timeouts) *fasthttp.HostClient {
	k := clientKey{addr: addr, tls: isTLS, timeouts: to}
	p.mu.RLock()
	hc := p.clients[k]
	p.mu.RUnlock()
	if hc != nil {
		return hc
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if hc = p.clients[k]; hc != nil {
		return hc
	}
	dialer := &net.Dialer{Timeout: to.Connect, KeepAlive: 30 * time.Second}
	hc = &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         isTLS,
		MaxConns:                      p.opts.MaxConnsPerNode,
		MaxConnWaitTimeout:            to.Connect,
		ReadTimeout:                   to.Read,
		WriteTimeout:                  to.Send,
		MaxIdleConnDuration:           60 * time.Second,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
		Dial: func(a string) (net.Conn, error) {
			c, err := dialer.Dial("tcp", a)
			if err != nil || isTLS {
				return c, err // fasthttp wraps it in TLS itself
			}
			return newYieldConn(c), nil
		},
	}
	if isTLS {
		// nginx's proxy_ssl_verify is off by default, and so is APISIX's
		// upstream tls.verify: the upstream's certificate is not checked.
		hc.TLSConfig = &tls.Config{ServerName: hostOnly(addr), InsecureSkipVerify: true} //nolint:gosec // as APISIX
	}
	p.clients[k] = hc
	return hc
}

func hostOnly(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
