package proxy

import (
	"net"
	"net/netip"
	"runtime"
)

// yieldConn is a TCP connection whose Read first lets the other goroutines
// run when its previous read drained the socket.
//
// Go's Read tries read(2) first and waits on the poller only when that
// fails with EAGAIN. A proxy reads right after it wrote: the upstream's
// answer right after sending the request, the client's next request right
// after sending the response; neither is there yet, so each proxied request
// would pay two reads that fail. Under load other connections have work
// ready: yielding to them first gives the awaited data time to arrive, and
// the read then succeeds at once. With nothing else to run, the yield
// returns at once and the read goes on as before. (Waiting on the poller
// before reading is not possible through Go's API: RawConn.Read discards a
// readiness that arrived before the call.)
type yieldConn struct {
	*net.TCPConn
	drained bool
	// The peer's address, for the client connections the proxy serves:
	// formatted once per connection rather than per request.
	ip    netip.Addr
	ipStr string
}

// newYieldConn wraps c when it is a TCP connection; other conns are returned as they are.
func newYieldConn(c net.Conn) net.Conn {
	if tc, ok := c.(*net.TCPConn); ok {
		return &yieldConn{TCPConn: tc}
	}
	return c
}

func (c *yieldConn) Read(p []byte) (int, error) {
	if c.drained {
		runtime.Gosched()
	}
	n, err := c.TCPConn.Read(p)
	// A short read left the socket empty (TCP copies all it has).
	c.drained = n > 0 && n < len(p)
	return n, err
}

// peerConn is a client connection that knows its peer's address, formatted
// once when it was accepted rather than per request.
type peerConn interface {
	peer() (netip.Addr, string)
}

func (c *yieldConn) peer() (netip.Addr, string) { return c.ip, c.ipStr }

// yieldListener hands out yieldConns.
type yieldListener struct{ net.Listener }

func (l yieldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	yc := newYieldConn(c)
	if y, ok := yc.(*yieldConn); ok {
		if a, ok := y.RemoteAddr().(*net.TCPAddr); ok {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				y.ip = ip.Unmap()
				y.ipStr = y.ip.String()
			}
		}
	}
	return yc, nil
}
