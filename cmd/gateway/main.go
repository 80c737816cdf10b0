// Command gateway runs a standalone data plane node for one gateway group:
//
//	gateway --etcd http://127.0.0.1:2379 --prefix /apisix --listen :9080 --metrics-listen 127.0.0.1:9091
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"devportal/gateway/dataplane"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends; ready, when set, is called once the node serves.
func run(ctx context.Context, args []string, ready func(*dataplane.Node)) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	etcd := fs.String("etcd", envOr("ETCD_ENDPOINTS", "http://127.0.0.1:2379"), "etcd endpoints, comma separated")
	prefix := fs.String("prefix", "/apisix", "gateway group prefix in etcd")
	listen := fs.String("listen", ":9080", "HTTP listen address")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9091", "Prometheus metrics listen address (empty disables)")
	keyring := fs.String("keyring", "", "data_encryption keyring, comma separated (default: APISIX's default keyring; \"none\" stores keys in clear)")
	nodeID := fs.String("node-id", "", "node id in the heartbeat (default: generated)")
	accessLog := fs.Bool("access-log", false, "write structured access logs")
	streamHost := fs.String("stream-host", "", "host stream route ports bind on (default: all interfaces)")
	pprof := fs.Bool("pprof", false, "serve /debug/pprof/ on the metrics listener")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	user := fs.String("etcd-user", os.Getenv("ETCD_USERNAME"), "etcd user name")
	pass := fs.String("etcd-password", os.Getenv("ETCD_PASSWORD"), "etcd password")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := dataplane.Config{
		Endpoints:        split(*etcd),
		Prefix:           *prefix,
		Listen:           *listen,
		MetricsListen:    *metricsListen,
		NodeID:           *nodeID,
		AccessLog:        *accessLog,
		Logger:           logger,
		StreamListenHost: *streamHost,
		Pprof:            *pprof,
		EtcdUsername:     *user,
		EtcdPassword:     *pass,
	}
	switch *keyring {
	case "":
	case "none":
		cfg.Keyring = []string{}
	default:
		cfg.Keyring = split(*keyring)
	}
	node, err := dataplane.New(cfg)
	if err != nil {
		return err
	}
	// Start bounds its own wait for the first load (Config.StartTimeout);
	// the node then serves until ctx ends.
	if err := node.Start(ctx); err != nil {
		return err
	}
	logger.Info("gateway: started", "addr", node.Addr(), "metrics", node.MetricsAddr(), "node_id", node.ID())
	if ready != nil {
		ready(node)
	}
	<-ctx.Done()
	logger.Info("gateway: stopping")
	return node.Close()
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
