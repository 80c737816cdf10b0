// Package etcdtest starts a real embedded etcd member for tests, on free
// loopback ports and a temporary data directory.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/etcdserver"
	"devportal/internal/freeport"
)

// Member is one running test member.
type Member struct {
	*etcdserver.Server
	Dir       string
	ClientURL string
	PeerURL   string
}

// startAttempts bounds how often Start picks new ports after losing one.
const startAttempts = 5

// Start starts a member; call Close (or Stop) when done. It is meant for TestMain,
// where one member serves a whole package.
//
// A port found free can be taken before etcd binds it (test packages run in
// parallel and their outgoing connections draw from the same range), so a
// start that loses its port tries again on new ones.
func Start() (*Member, error) {
	var err error
	for range startAttempts {
		var m *Member
		m, err = startOnFreePorts()
		if err == nil {
			return m, nil
		}
		if !lostPort(err) {
			return nil, err
		}
	}
	return nil, err
}

// lostPort reports whether a start failed because its port was taken.
func lostPort(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}

func startOnFreePorts() (*Member, error) {
	dir, err := os.MkdirTemp("", "etcdtest-*")
	if err != nil {
		return nil, err
	}
	m := &Member{Dir: dir, ClientURL: "http://" + freeAddr(), PeerURL: "http://" + freeAddr()}
	if err := m.Restart(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return m, nil
}

// Restart starts the member again on the same data and addresses (after Stop).
func (m *Member) Restart() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := etcdserver.Start(ctx, etcdserver.Config{
		Dir: m.Dir, ClientURL: m.ClientURL, PeerURL: m.PeerURL, UnsafeNoFsync: true,
	})
	if err != nil {
		return err
	}
	m.Server = s
	return nil
}

// Endpoints are the member's client URLs, also while it is stopped.
func (m *Member) Endpoints() []string { return []string{m.ClientURL} }

// Stop stops the member but keeps its data for Restart.
func (m *Member) Stop() {
	if m.Server != nil {
		m.Server.Close()
		m.Server = nil
	}
}

// Close stops the member and removes its data.
func (m *Member) Close() {
	m.Stop()
	os.RemoveAll(m.Dir)
}

// Client returns a client of the member, closed when the test ends.
func (m *Member) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: m.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix no other test uses, so tests sharing a member stay apart.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("/test/%s/%d", t.Name(), time.Now().UnixNano())
}

// freeAddr is a loopback address to name before etcd binds it.
func freeAddr() string {
	addr, err := freeport.Addr()
	if err != nil {
		panic(err)
	}
	return addr
}

// Main is a package's TestMain: it starts one member into *into, runs the
// tests, closes the member and exits with the tests' code.
func Main(m *testing.M, into **Member) {
	mem, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest:", err)
		os.Exit(1)
	}
	*into = mem
	code := m.Run()
	mem.Close()
	os.Exit(code)
}
