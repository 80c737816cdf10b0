package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"devportal/gateway/dataplane"
	"devportal/internal/etcdtest"
)

func TestRunServesUntilCanceled(t *testing.T) {
	m, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *dataplane.Node, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--etcd", m.ClientURL, "--prefix", etcdtest.Prefix(t), "--listen", "127.0.0.1:0",
			"--metrics-listen", "127.0.0.1:0", "--log-level", "error", "--node-id", "cmd-test"}, func(n *dataplane.Node) { ready <- n })
	}()
	var node *dataplane.Node
	select {
	case node = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node not ready")
	}
	r, err := http.Get("http://" + node.Addr() + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 404 || string(b) != `{"error_msg":"404 Route Not Found"}`+"\n" {
		t.Fatalf("got %d %q", r.StatusCode, b)
	}
	if node.ID() != "cmd-test" {
		t.Fatalf("node id %q", node.ID())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadKeyring(t *testing.T) {
	err := run(context.Background(), []string{"--etcd", "http://127.0.0.1:1", "--keyring", "short"}, nil)
	if err == nil {
		t.Fatal("a keyring entry of the wrong size was accepted")
	}
}
