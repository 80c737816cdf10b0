package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"devportal/gateway/apisix"
	"devportal/handlers"
	"devportal/portal/accounts"
)

// Config is everything the binary is told, from flags and the environment.
// It is loaded once here and passed down; nothing else reads flags or env.
type Config struct {
	// Listen is the address of the site, the Admin API and the probes
	// (--listen, default :8080).
	Listen string
	// DataDir holds the SQLite database (portal.db) and the embedded etcd's
	// data (etcd/) (--data-dir, default ./data).
	DataDir string
	// DatabaseURL, when it is postgres://..., selects PostgreSQL; otherwise
	// the database is SQLite at <DataDir>/portal.db (env DATABASE_URL, or
	// --database-url).
	DatabaseURL string
	// EtcdEndpoints, when set, are an external etcd cluster and no embedded
	// etcd is started (env ETCD_ENDPOINTS, comma separated, or --etcd-endpoints).
	EtcdEndpoints []string
	// EtcdListen is where the embedded etcd serves clients, so etcdctl, a
	// standalone data plane node or APISIX can read it (--etcd-listen,
	// default http://127.0.0.1:2379).
	EtcdListen string
	// EtcdPeerListen is the embedded etcd's raft peer URL, used by no one
	// else (--etcd-peer-listen, default http://127.0.0.1:2380).
	EtcdPeerListen string
	// EtcdMaxTxnOps is the most operations the etcd cluster accepts in one
	// transaction; a publish needing more is refused (--etcd-max-txn-ops;
	// 0 means etcdserver.DefaultMaxTxnOps for the embedded etcd, which is
	// also started with it, and etcd's default 128 for an external cluster).
	EtcdMaxTxnOps int
	// Admin seeds the first admin: env DEVPORTAL_ADMIN_EMAIL,
	// DEVPORTAL_ADMIN_PASSWORD (web sign-in) and DEVPORTAL_ADMIN_TOKEN
	// (Admin API token). What is missing on first start is generated and
	// printed once; a new DEVPORTAL_ADMIN_TOKEN on a later start is added.
	Admin accounts.Seed
	// GatewayListen is the in-process data plane node's HTTP address
	// (--gateway-listen, default :9080).
	GatewayListen string
	// GatewayMetricsListen is that node's Prometheus address; "" disables it
	// (--gateway-metrics-listen, default "").
	GatewayMetricsListen string
	// NoGateway runs no in-process data plane node: production runs
	// cmd/gateway or APISIX nodes instead (--no-gateway).
	NoGateway bool
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGTERM (--shutdown-timeout, default 30s).
	ShutdownTimeout time.Duration
	// LogLevel is debug, info, warn or error (--log-level, default info).
	LogLevel slog.Level
	// Secret seals API keys in the database (env DEVPORTAL_SECRET, at least
	// 16 characters). Empty: a secret generated on first start and kept in
	// <DataDir>/secret; replicas sharing a database must set the same one.
	Secret string
	// Keyring is APISIX's data_encryption keyring that key-auth keys are
	// written to etcd with, first key encrypting (env DEVPORTAL_KEYRING,
	// comma separated; default APISIX's default keyring). It must match the
	// gateways' apisix.data_encryption.keyring.
	Keyring []string
	// ReconcileInterval is how often every group's etcd is checked against
	// the database and repaired (--reconcile-interval, default 5m; 0: only
	// at start and on demand).
	ReconcileInterval time.Duration
	// Site configures the web pages: DEVPORTAL_BASE_URL, DEVPORTAL_GATEWAY_URL,
	// DEVPORTAL_OIDC_ISSUER / _CLIENT_ID / _CLIENT_SECRET / _NAME and
	// DEVPORTAL_GITHUB_CLIENT_ID / _CLIENT_SECRET.
	Site handlers.SiteConfig
}

// External etcd's own default limit on operations per transaction.
const etcdDefaultMaxTxnOps = 128

// loadConfig reads args (without the program name) and the environment
// through getenv. It returns flag.ErrHelp after printing usage for -h.
func loadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var cfg Config
	fs := flag.NewFlagSet("devportal", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.Listen, "listen", ":8080", "address of the site, Admin API and probes")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the SQLite database and the embedded etcd")
	fs.StringVar(&cfg.DatabaseURL, "database-url", getenv("DATABASE_URL"), "postgres://... for PostgreSQL (env DATABASE_URL); empty: SQLite in --data-dir")
	etcdEndpoints := fs.String("etcd-endpoints", getenv("ETCD_ENDPOINTS"), "external etcd endpoints, comma separated (env ETCD_ENDPOINTS); empty: embedded etcd")
	fs.StringVar(&cfg.EtcdListen, "etcd-listen", "http://127.0.0.1:2379", "client URL of the embedded etcd")
	fs.StringVar(&cfg.EtcdPeerListen, "etcd-peer-listen", "http://127.0.0.1:2380", "peer URL of the embedded etcd")
	fs.IntVar(&cfg.EtcdMaxTxnOps, "etcd-max-txn-ops", 0, "most operations per etcd transaction (0: 4096 embedded, 128 external)")
	fs.StringVar(&cfg.GatewayListen, "gateway-listen", ":9080", "HTTP address of the in-process data plane node")
	fs.StringVar(&cfg.GatewayMetricsListen, "gateway-metrics-listen", "", "Prometheus address of the in-process data plane node (empty: off)")
	fs.BoolVar(&cfg.NoGateway, "no-gateway", false, "run no in-process data plane node")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may finish after SIGTERM")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&cfg.ReconcileInterval, "reconcile-interval", 5*time.Minute, "how often etcd is checked against the database and repaired (0: at start only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: devportal [flags]\n\nThe developer portal, gateway control plane and (by default) a data plane node in one binary.\n"+
			"Environment: DATABASE_URL, ETCD_ENDPOINTS, DEVPORTAL_ADMIN_TOKEN, DEVPORTAL_ADMIN_EMAIL, DEVPORTAL_ADMIN_PASSWORD.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return Config{}, fmt.Errorf("--log-level: %w", err)
	}
	for _, ep := range strings.Split(*etcdEndpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			cfg.EtcdEndpoints = append(cfg.EtcdEndpoints, ep)
		}
	}
	cfg.Admin = accounts.Seed{
		Email:    strings.TrimSpace(getenv("DEVPORTAL_ADMIN_EMAIL")),
		Password: getenv("DEVPORTAL_ADMIN_PASSWORD"),
		Token:    strings.TrimSpace(getenv("DEVPORTAL_ADMIN_TOKEN")),
	}
	cfg.Secret = getenv("DEVPORTAL_SECRET")
	cfg.Keyring = apisix.DefaultKeyring
	if kr := strings.TrimSpace(getenv("DEVPORTAL_KEYRING")); kr != "" {
		cfg.Keyring = nil
		for _, k := range strings.Split(kr, ",") {
			cfg.Keyring = append(cfg.Keyring, strings.TrimSpace(k))
		}
	}
	cfg.Site = handlers.SiteConfig{
		BaseURL:    strings.TrimRight(orDefault(getenv("DEVPORTAL_BASE_URL"), "http://localhost"+portOf(cfg.Listen)), "/"),
		GatewayURL: strings.TrimRight(orDefault(getenv("DEVPORTAL_GATEWAY_URL"), "http://localhost"+portOf(cfg.GatewayListen)), "/"),
		OIDC: handlers.OAuthProvider{Issuer: getenv("DEVPORTAL_OIDC_ISSUER"), ClientID: getenv("DEVPORTAL_OIDC_CLIENT_ID"),
			ClientSecret: getenv("DEVPORTAL_OIDC_CLIENT_SECRET"), Name: orDefault(getenv("DEVPORTAL_OIDC_NAME"), "single sign-on")},
		GitHub: handlers.OAuthProvider{ClientID: getenv("DEVPORTAL_GITHUB_CLIENT_ID"), ClientSecret: getenv("DEVPORTAL_GITHUB_CLIENT_SECRET"), Name: "GitHub"},
	}
	cfg.Site.SecureCookies = strings.HasPrefix(cfg.Site.BaseURL, "https://")
	var errs []error
	if _, err := apisix.NewKeyring(cfg.Keyring); err != nil {
		errs = append(errs, fmt.Errorf("DEVPORTAL_KEYRING: %w", err))
	}
	if cfg.Secret != "" && len(cfg.Secret) < 16 {
		errs = append(errs, errors.New("DEVPORTAL_SECRET must be at least 16 characters"))
	}
	if cfg.ReconcileInterval < 0 {
		errs = append(errs, errors.New("--reconcile-interval must not be negative"))
	}
	if cfg.EtcdMaxTxnOps < 0 {
		errs = append(errs, errors.New("--etcd-max-txn-ops must not be negative"))
	}
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout must be positive"))
	}
	if cfg.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	return cfg, errors.Join(errs...)
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}

// portOf is ":8080" of "0.0.0.0:8080" or ":8080".
func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}
