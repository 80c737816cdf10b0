// Command churnbench is the tooling of the data plane churn benchmark
// (scripts/bench/churn.sh). Each subcommand is one role:
//
//	churnbench etcd     -dir D [-client-url U -peer-url P]   embedded etcd until SIGTERM
//	churnbench seed     -etcd U [size flags]                 write the data set (internal/benchseed)
//	churnbench upstream -listen A                            a 200 "ok" upstream until SIGTERM
//	churnbench ready    -pid N -node A -metrics A [size flags]
//	                    wait for the node's first 200 with the last consumer's key; print
//	                    start time, RSS and Go heap as one JSON line
//	churnbench window   -mode steady|churn -pid N -node A -etcd U -rate R -dur D [size flags]
//	                    fixed-rate load (random routes, random valid keys) for D, with the
//	                    churn writer in churn mode; print latencies, node CPU and changes as JSON
//	churnbench write    -mode churn|decoy -etcd U -dur D [size flags]
//	                    the churn writer alone (window runs it under SCHED_IDLE); print its changes
//
// Size flags: -prefix -routes -consumers -big -whitelist -upstream.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"devportal/gateway/etcdserver"
	"devportal/internal/benchseed"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: churnbench etcd|seed|upstream|ready|window|write [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, []string) error{
		"etcd": runEtcd, "seed": runSeed, "upstream": runUpstream, "ready": runReady, "window": runWindow, "write": runWrite,
	}
	fn, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "churnbench: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := fn(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "churnbench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// sizeFlags registers the flags that size the data set.
func sizeFlags(fs *flag.FlagSet) *benchseed.Config {
	c := &benchseed.Config{}
	fs.StringVar(&c.Prefix, "prefix", "/apisix", "gateway group prefix")
	fs.IntVar(&c.Routes, "routes", 10000, "routes")
	fs.IntVar(&c.Consumers, "consumers", 100000, "consumers")
	fs.IntVar(&c.BigRoutes, "big", 10, "routes whitelisting every consumer")
	fs.IntVar(&c.Whitelist, "whitelist", 20, "consumers whitelisted on each other route")
	fs.StringVar(&c.Upstream, "upstream", "127.0.0.1:29181", "upstream host:port")
	return c
}

func client(endpoint string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		MaxCallSendMsgSize: etcdserver.MaxRequestBytes, MaxCallRecvMsgSize: 1 << 30})
}

func runEtcd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dir := fs.String("dir", "", "data directory (required)")
	clientURL := fs.String("client-url", "http://127.0.0.1:29379", "client URL")
	peerURL := fs.String("peer-url", "http://127.0.0.1:29380", "peer URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := etcdserver.Start(ctx, etcdserver.Config{Dir: *dir, ClientURL: *clientURL, PeerURL: *peerURL, UnsafeNoFsync: true})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("ready")
	select {
	case <-ctx.Done():
		return nil
	case err := <-srv.Err():
		return err
	}
}

func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	endpoint := fs.String("etcd", "http://127.0.0.1:29379", "etcd endpoint")
	cfg := sizeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cli, err := client(*endpoint)
	if err != nil {
		return err
	}
	defer cli.Close()
	start := time.Now()
	keys, bytes, err := benchseed.Seed(ctx, cli, *cfg)
	if err != nil {
		return err
	}
	fmt.Printf(`{"keys":%d,"bytes":%d,"seconds":%.2f}`+"\n", keys, bytes, time.Since(start).Seconds())
	return nil
}
