package etcdtest

import (
	"context"
	"net"
	"testing"
	"time"

	"devportal/gateway/etcdserver"
)

// A member whose client port is already taken fails in a way Start
// recognizes, so Start picks new ports instead of failing the package.
func TestLostPortRecognizesATakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := etcdserver.Start(ctx, etcdserver.Config{
		Dir: t.TempDir(), ClientURL: "http://" + l.Addr().String(), PeerURL: "http://" + freeAddr(), UnsafeNoFsync: true,
	})
	if err == nil {
		s.Close()
		t.Fatal("etcd started on a port already in use")
	}
	if !lostPort(err) {
		t.Fatalf("a taken port was not recognized: %v", err)
	}
	if lostPort(context.DeadlineExceeded) {
		t.Fatal("an unrelated error was taken for a lost port")
	}
}
