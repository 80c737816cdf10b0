package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
	"devportal/internal/etcdtest"
)

// The node keeps serving its last snapshot while etcd is down, and picks up
// changes and re-registers its heartbeat once etcd is back. A dedicated
// member keeps the other tests' etcd running.
func TestEtcdOutageKeepsServingAndRecovers(t *testing.T) {
	m, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	e := newEnvOn(t, m)
	_, up := echoUpstream(t, "a")
	e.put("consumers/jack", map[string]any{"username": "jack", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "k")}}})
	e.put("routes/1", keyAuthRoute("/x", up, map[string]any{}, nil))
	expectStatus(t, e.get("/x", "apikey: k"), 200)
	hbKey := apisix.Key(e.prefix, apisix.KindServerInfo, e.node.ID())

	m.Stop()
	// Requests keep being served from the last good snapshot.
	for i := 0; i < 5; i++ {
		expectStatus(t, e.get("/x", "apikey: k"), 200)
		expectStatus(t, e.get("/x", "apikey: wrong"), 401)
		time.Sleep(100 * time.Millisecond)
	}
	// Outlive the heartbeat lease (TTL 2s in tests) so it must re-register.
	time.Sleep(3 * time.Second)
	expectStatus(t, e.get("/x", "apikey: k"), 200)

	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	cli := m.Client(t)
	e.cli = cli
	e.put("routes/2", route("/y", up, nil))
	expectStatus(t, e.get("/y"), 200)
	expectStatus(t, e.get("/x", "apikey: k"), 200)
	eventually(t, 15*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r, err := cli.Get(ctx, hbKey)
		return err == nil && len(r.Kvs) == 1 && r.Kvs[0].Lease != 0
	})
}

// A compacted watch makes the node list the prefix again and end up with
// the same state, never a wrong one.
func TestWatchCompactionRelists(t *testing.T) {
	m, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	e := newEnvOn(t, m)
	_, up := echoUpstream(t, "a")
	e.put("routes/1", route("/one", up, nil))
	before := e.node.store.Relists.Load()

	// Stop the node's watch from keeping up: cancel it by compacting past
	// changes made while it is blocked is not possible from outside, so
	// drive the store directly: watch from an old, compacted revision.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var last int64
	for i := 0; i < 5; i++ {
		r, err := e.cli.Put(ctx, e.prefix+"/routes/tmp", `{"uri":"/tmp","upstream":{"nodes":[]}}`)
		if err != nil {
			t.Fatal(err)
		}
		last = r.Header.Revision
	}
	e.waitRev(last)
	if _, err := e.cli.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	err = e.node.store.WatchFrom(ctx, 1)
	if err == nil {
		t.Fatal("watch from a compacted revision did not fail")
	}
	// The running watch loop is unaffected; a relist gives the same state.
	if err := e.node.store.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if e.node.store.Relists.Load() <= before {
		t.Fatal("no relist")
	}
	expectStatus(t, e.get("/one"), 200)
	e.put("routes/2", route("/two", up, nil))
	expectStatus(t, e.get("/two"), 200)
}

func TestHeartbeatRegistersAndRevokesOnClose(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NodeID = "node-hb" })
	key := apisix.Key(e.prefix, apisix.KindServerInfo, "node-hb")
	var info apisix.ServerInfo
	eventually(t, 10*time.Second, func() bool {
		r, err := e.cli.Get(context.Background(), key)
		if err != nil || len(r.Kvs) != 1 {
			return false
		}
		if r.Kvs[0].Lease == 0 {
			t.Fatalf("server_info written without a lease")
		}
		return json.Unmarshal(r.Kvs[0].Value, &info) == nil
	})
	if info.ID != "node-hb" || info.Hostname == "" || info.Version == "" || info.BootTime == 0 || info.Address != e.node.Addr() {
		t.Fatalf("server_info %+v", info)
	}
	if err := e.node.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := e.cli.Get(context.Background(), key)
	if err != nil || len(r.Kvs) != 0 {
		t.Fatalf("server_info still present after Close: %v %v", r, err)
	}
}

// Graceful close: a request in flight when Close is called completes.
func TestCloseLetsInflightRequestsFinish(t *testing.T) {
	e := newEnv(t)
	started := make(chan struct{})
	srv := slowServer(t, started, 300*time.Millisecond)
	e.put("routes/1", route("/slow", nodeOf(t, srv), nil))
	done := make(chan resp, 1)
	go func() { done <- e.get("/slow") }()
	<-started
	if err := e.node.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	expectStatus(t, r, 200)
}

// A request sees either the whole old configuration or the whole new one:
// the upstream and the plugin config of a route change together while
// requests run.
func TestRequestsNeverSeeHalfAChange(t *testing.T) {
	e := newEnv(t)
	_, a := echoUpstream(t, "a")
	_, b := echoUpstream(t, "b")
	version := func(name string, n apisix.Node) {
		e.put("upstreams/u", map[string]any{"nodes": []any{n}})
		e.put("plugin_configs/pc", map[string]any{"plugins": map[string]any{
			"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-Version": name}}}}})
	}
	// One transaction changes both, as the control core writes them.
	flip := func(name string, n apisix.Node) {
		up, _ := json.Marshal(map[string]any{"nodes": []any{n}})
		pc, _ := json.Marshal(map[string]any{"plugins": map[string]any{
			"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"X-Version": name}}}}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := e.cli.Txn(ctx).Then(
			clientv3.OpPut(e.prefix+"/upstreams/u", string(up)),
			clientv3.OpPut(e.prefix+"/plugin_configs/pc", string(pc)),
		).Commit()
		if err != nil {
			t.Error(err)
			return
		}
		e.waitRev(r.Header.Revision)
	}
	version("a", a)
	e.put("routes/r", map[string]any{"uri": "/v", "upstream_id": "u", "plugin_config_id": "pc"})

	stop := make(chan struct{})
	errs := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// No t.Fatal off the test goroutine: report through errs.
			r, err := client.Get("http://" + e.node.Addr() + "/v")
			if err != nil {
				errs <- err.Error()
				return
			}
			var got echoed
			err = json.NewDecoder(r.Body).Decode(&got)
			r.Body.Close()
			if err != nil {
				errs <- err.Error()
				return
			}
			if got.Server != got.Headers.Get("X-Version") {
				errs <- fmt.Sprintf("upstream %s with X-Version %s", got.Server, got.Headers.Get("X-Version"))
				return
			}
		}
	}()
	for i := 0; i < 20; i++ {
		if i%2 == 0 {
			flip("b", b)
		} else {
			flip("a", a)
		}
	}
	close(stop)
	<-done
	select {
	case msg := <-errs:
		t.Fatal(msg)
	default:
	}
}

// Several nodes serve one group: each applies the same configuration and
// registers itself.
func TestTwoNodesServeOneGroup(t *testing.T) {
	e1 := newEnv(t, func(c *Config) { c.NodeID = "n1" })
	e2 := newEnv(t, func(c *Config) { c.NodeID = "n2"; c.Prefix = e1.prefix })
	e2.prefix = e1.prefix
	_, up := echoUpstream(t, "a")
	e1.put("routes/r", route("/both", up, nil))
	e2.waitRev(e1.node.Snapshot().Rev)
	expectStatus(t, e1.get("/both"), 200)
	expectStatus(t, e2.get("/both"), 200)
	eventually(t, 10*time.Second, func() bool {
		r, err := e1.cli.Get(context.Background(), apisix.Dir(e1.prefix, apisix.KindServerInfo), clientv3.WithPrefix(), clientv3.WithKeysOnly())
		return err == nil && len(r.Kvs) == 2
	})
}
