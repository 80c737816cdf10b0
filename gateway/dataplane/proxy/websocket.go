package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"devportal/gateway/dataplane/config"
	"devportal/gateway/dataplane/plugin"
)

func isWebSocket(ctx *fasthttp.RequestCtx) bool {
	return ctx.Request.Header.ConnectionUpgrade() && bytes.EqualFold(ctx.Request.Header.Peek("Upgrade"), []byte("websocket"))
}

// websocket proxies an upgrade on a route with enable_websocket: the request
// goes to one upstream node on a connection of its own, and once sent the
// two connections are piped together, the upstream's 101 answer included.
func (p *Proxy) websocket(ctx *fasthttp.RequestCtx, c *plugin.Ctx, route *config.Route) {
	up := route.Upstream
	node := up.Picker.Pick(c, nil)
	if node == nil {
		p.reply(ctx, plugin.StatusReply(502))
		return
	}
	conn, err := net.DialTimeout("tcp", node.Addr, route.Timeouts.Connect)
	if err == nil && up.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: node.Host, InsecureSkipVerify: true}) //nolint:gosec // as APISIX
		tc.SetDeadline(time.Now().Add(route.Timeouts.Connect))
		if err = tc.Handshake(); err == nil {
			tc.SetDeadline(time.Time{})
			conn = tc
		} else {
			conn.Close()
		}
	}
	if err != nil {
		status := 502
		if isTimeout(err) {
			status = 504
		}
		p.opts.Logger.Warn("proxy: websocket upstream failed", "route_id", route.ID, "err", err, "status", status)
		p.reply(ctx, plugin.StatusReply(status))
		return
	}
	req := &ctx.Request
	clientHost := string(req.Header.Host())
	if c.UpstreamURI != nil {
		req.SetRequestURIBytes(c.UpstreamURI)
	} else {
		req.SetRequestURIBytes(req.URI().RequestURI())
	}
	switch {
	case c.UpstreamHost != "":
		req.Header.SetHost(c.UpstreamHost)
	case up.PassHost == "node":
		req.Header.SetHost(nodeHost(up, node))
	case up.PassHost == "rewrite":
		req.Header.SetHost(up.UpstreamHost)
	}
	p.setForwarded(ctx, c, clientHost)
	req.UseHostHeader = true
	bw := bufio.NewWriter(conn)
	conn.SetWriteDeadline(time.Now().Add(route.Timeouts.Send))
	if err := req.Write(bw); err == nil {
		err = bw.Flush()
	}
	if err != nil {
		conn.Close()
		p.opts.Logger.Warn("proxy: websocket upstream write failed", "route_id", route.ID, "err", err)
		p.reply(ctx, plugin.StatusReply(502))
		return
	}
	conn.SetWriteDeadline(time.Time{})
	ctx.Response.SetStatusCode(fasthttp.StatusSwitchingProtocols)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(client net.Conn) {
		defer conn.Close()
		done := make(chan struct{}, 2)
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			} else {
				dst.Close()
			}
			done <- struct{}{}
		}
		go pipe(conn, client)
		go pipe(client, conn)
		<-done
		<-done
	})
}
