// Package stream is the node's TCP proxy for APISIX stream routes: it
// listens on every server_port the current stream routes name (opening and
// closing listeners as routes come and go) and pipes each connection to a
// node of the route's upstream.
package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/config"
)

// Manager owns the stream listeners.
type Manager struct {
	host string // listen host, "" for all interfaces
	log  *slog.Logger

	mu        sync.Mutex
	listeners map[int]*port
	closed    bool
	wg        sync.WaitGroup
}

type port struct {
	ln     net.Listener
	routes atomic.Pointer[[]*config.StreamRoute]
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

// New makes a manager listening on host.
func New(host string, log *slog.Logger) *Manager {
	return &Manager{host: host, log: log, listeners: map[int]*port{}}
}

// Ports lists the ports listened on.
func (m *Manager) Ports() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for p := range m.listeners {
		out = append(out, p)
	}
	return out
}

// Update opens and closes listeners to match snap's stream routes.
func (m *Manager) Update(snap *config.Snapshot) {
	byPort := map[int][]*config.StreamRoute{}
	for _, r := range snap.StreamRoutes() {
		byPort[r.ServerPort] = append(byPort[r.ServerPort], r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for p, l := range m.listeners {
		if _, ok := byPort[p]; !ok {
			l.close()
			delete(m.listeners, p)
			m.log.Info("stream: stopped listening", "port", p)
		}
	}
	for p, routes := range byPort {
		routes := routes
		if l, ok := m.listeners[p]; ok {
			l.routes.Store(&routes)
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(m.host, strconv.Itoa(p)))
		if err != nil {
			m.log.Error("stream: cannot listen", "port", p, "err", err)
			continue
		}
		l := &port{ln: ln, conns: map[net.Conn]struct{}{}}
		l.routes.Store(&routes)
		m.listeners[p] = l
		m.log.Info("stream: listening", "port", p)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.accept(l)
		}()
	}
}

// Close stops every listener and connection.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for p, l := range m.listeners {
		l.close()
		delete(m.listeners, p)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

func (l *port) close() {
	l.ln.Close()
	l.mu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
}

func (m *Manager) accept(l *port) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				m.log.Warn("stream: accept", "err", err)
			}
			return
		}
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer func() {
				if r := recover(); r != nil {
					m.log.Error("stream: panic", "panic", r)
				}
				c.Close()
				l.mu.Lock()
				delete(l.conns, c)
				l.mu.Unlock()
			}()
			m.serve(l, c)
		}()
	}
}

type connVars struct{ remote string }

func (v connVars) Var(name string) string {
	if name == "remote_addr" {
		return v.remote
	}
	return ""
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

func (m *Manager) serve(l *port, c net.Conn) {
	remote := addrOf(c.RemoteAddr())
	local := addrOf(c.LocalAddr())
	var route *config.StreamRoute
	for _, r := range *l.routes.Load() {
		if r.RemoteAddr != nil && !r.RemoteAddr.Contains(remote) {
			continue
		}
		if r.ServerAddr != "" && r.ServerAddr != local.String() {
			continue
		}
		route = r
		break
	}
	if route == nil || route.Upstream == nil {
		return // APISIX closes a connection no stream route matches
	}
	up := route.Upstream
	var upConn net.Conn
	var tried []*balancer.Node
	for attempt := 0; attempt <= up.Retries; attempt++ {
		n := up.Picker.Pick(connVars{remote.String()}, tried)
		if n == nil {
			break
		}
		tried = append(tried, n)
		d := net.Dialer{Timeout: up.Timeouts.Connect}
		var err error
		upConn, err = d.DialContext(context.Background(), "tcp", n.Addr)
		if err == nil {
			break
		}
		m.log.Warn("stream: upstream dial failed", "stream_route", route.ID, "node", n.Addr, "err", err)
	}
	if upConn == nil {
		return
	}
	l.mu.Lock()
	l.conns[upConn] = struct{}{}
	l.mu.Unlock()
	defer func() {
		upConn.Close()
		l.mu.Lock()
		delete(l.conns, upConn)
		l.mu.Unlock()
	}()
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
	go pipe(upConn, c)
	go pipe(c, upConn)
	<-done
	<-done
}
