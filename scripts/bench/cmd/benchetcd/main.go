// Command benchetcd runs the embedded etcd member (gateway/etcdserver) for the
// data plane throughput benchmark (scripts/bench/throughput.sh) and seeds it
// with the configuration the benchmark measures, then serves until SIGTERM:
//
//   - N consumers app_0 … app_<N-1>, each with a key-auth key "key-app_<i>"
//     stored encrypted with APISIX's default keyring, as the control core writes it;
//   - route "plain": /plain/* to the upstream, no plugins;
//   - route "auth": /auth/* to the upstream with key-auth, consumer-restriction
//     (all N consumers whitelisted), limit-count (per consumer, a count that is
//     never reached) and proxy-rewrite (regex_uri /auth/(.*) → /$1, one header set).
//
// It prints "ready" on stdout once seeded.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"devportal/gateway/apisix"
	"devportal/gateway/etcdserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchetcd:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "data directory (required; wiped by the caller)")
	clientURL := flag.String("client-url", "http://127.0.0.1:23790", "etcd client URL")
	peerURL := flag.String("peer-url", "http://127.0.0.1:23800", "etcd peer URL")
	prefix := flag.String("prefix", "/apisix", "gateway group prefix")
	n := flag.Int("consumers", 100000, "consumers to create")
	upstream := flag.String("upstream", "127.0.0.1:18081", "upstream host:port")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := etcdserver.Start(ctx, etcdserver.Config{Dir: *dir, ClientURL: *clientURL, PeerURL: *peerURL, UnsafeNoFsync: true})
	if err != nil {
		return err
	}
	defer srv.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		MaxCallSendMsgSize: etcdserver.MaxRequestBytes})
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := seed(ctx, cli, *prefix, *n, *upstream); err != nil {
		return err
	}
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}

func seed(ctx context.Context, cli *clientv3.Client, prefix string, n int, upstream string) error {
	kr, err := apisix.NewKeyring(apisix.DefaultKeyring)
	if err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(upstream)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portStr)
	up := map[string]any{"type": "roundrobin", "nodes": []any{map[string]any{"host": host, "port": port, "weight": 1}}}

	names := make([]string, 0, n)
	var ops []clientv3.Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		_, err := cli.Txn(ctx).Then(ops...).Commit()
		ops = ops[:0]
		return err
	}
	for i := 0; i < n; i++ {
		u := "app_" + strconv.Itoa(i)
		names = append(names, u)
		v, _ := json.Marshal(map[string]any{"username": u,
			"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("key-" + u)}}})
		ops = append(ops, clientv3.OpPut(prefix+"/consumers/"+u, string(v)))
		if len(ops) == 1000 {
			if err := flush(); err != nil {
				return fmt.Errorf("consumers: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("consumers: %w", err)
	}
	routes := map[string]any{
		"plain": map[string]any{"id": "plain", "uri": "/plain/*", "upstream": up},
		"auth": map[string]any{"id": "auth", "uri": "/auth/*", "upstream": up,
			"plugins": map[string]any{
				"key-auth":             map[string]any{},
				"consumer-restriction": map[string]any{"whitelist": names},
				"limit-count": map[string]any{"count": 1 << 40, "time_window": 3600,
					"key_type": "var", "key": "consumer_name", "rejected_code": 429},
				"proxy-rewrite": map[string]any{"regex_uri": []string{"^/auth/(.*)", "/$1"},
					"headers": map[string]any{"set": map[string]any{"X-Gateway": "devportal"}}},
			}},
	}
	for id, r := range routes {
		v, _ := json.Marshal(r)
		if _, err := cli.Put(ctx, prefix+"/routes/"+id, string(v)); err != nil {
			return fmt.Errorf("route %s: %w", id, err)
		}
	}
	return nil
}
