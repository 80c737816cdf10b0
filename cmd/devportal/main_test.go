package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"devportal/internal/freeport"
	"devportal/internal/ids"
	"devportal/models"
)

// When the test binary is started with DEVPORTAL_TEST_MAIN=1 it is the
// devportal binary: TestSIGTERM runs it as a real process.
func TestMain(m *testing.M) {
	if os.Getenv("DEVPORTAL_TEST_MAIN") == "1" {
		os.Args = append([]string{"devportal"}, strings.Fields(os.Getenv("DEVPORTAL_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freeAddr is a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// testConfig is the default configuration on a temp dir and free ports.
func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg, err := loadConfig([]string{
		"--data-dir", dir,
		"--listen", freeAddr(t),
		"--etcd-listen", "http://" + freeAddr(t),
		"--etcd-peer-listen", "http://" + freeAddr(t),
		"--gateway-listen", freeAddr(t),
		"--shutdown-timeout", "10s",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a run in a goroutine.
type started struct {
	cfg    Config
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when run returned, with err set
	err    error
}

func start(t *testing.T, cfg Config) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{cfg: cfg, out: &syncBuffer{}, cancel: cancel, done: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		defer close(s.done)
		s.err = run(ctx, cfg, s.out, log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(60 * time.Second):
		}
	})
	waitHealthy(t, "http://"+cfg.Listen, func() (error, bool) {
		select {
		case <-s.done:
			return s.err, true
		default:
			return nil, false
		}
	})
	return s
}

// stop cancels the run and checks that it ends cleanly.
func (s *started) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("run ended with %v, want a clean stop", s.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run did not stop within 60s")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitHealthy polls /healthz until it answers 200; ended reports whether
// the server already stopped.
func waitHealthy(t *testing.T, base string, ended func() (error, bool)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if err, ok := ended(); ok {
			t.Fatalf("ended before serving: %v", err)
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("not healthy within 90s")
}

// get sends a request and returns status and body.
func get(t *testing.T, method, url, key, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-KEY", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesStopsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	s := start(t, cfg)
	base := "http://" + cfg.Listen

	// First start without a seed: the token and password are printed once.
	out := s.out.String()
	i := strings.Index(out, "dpt_")
	if i < 0 || !strings.Contains(out, "not shown again") || !strings.Contains(out, "Admin password:") {
		t.Fatalf("first start printed %q, want the generated token and password", out)
	}
	token := strings.Fields(out[i:])[0]

	if code, body := get(t, "GET", base+"/readyz", "", ""); code != 200 || !strings.Contains(body, `"etcd":"ok"`) {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if code, _ := get(t, "GET", base+"/api/v1/gateway_groups", "", ""); code != 401 {
		t.Fatalf("Admin API without key = %d, want 401", code)
	}
	code, body := get(t, "POST", base+"/api/v1/gateway_groups", token, `{"name":"kept","prefix":"/kept"}`)
	if code != 201 {
		t.Fatalf("create group = %d %s", code, body)
	}
	var group struct{ ID string }
	json.Unmarshal([]byte(body), &group)
	// The in-process data plane node answers as APISIX does.
	if code, body := get(t, "GET", "http://"+cfg.GatewayListen+"/nothing", "", ""); code != 404 || !strings.Contains(body, "404 Route Not Found") {
		t.Fatalf("data plane = %d %s, want APISIX's 404", code, body)
	}
	s.stop(t)

	// Everything is closed: the ports are free again.
	for _, addr := range []string{cfg.Listen, cfg.GatewayListen, strings.TrimPrefix(cfg.EtcdListen, "http://")} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s still in use after stop: %v", addr, err)
		}
		l.Close()
	}

	// A restart on the same data dir keeps the data and prints no secrets.
	s = start(t, cfg)
	if out := s.out.String(); strings.Contains(out, "dpt_") {
		t.Fatalf("restart printed secrets again: %q", out)
	}
	code, body = get(t, "GET", base+"/api/v1/gateway_groups/"+group.ID, token, "")
	if code != 200 || !strings.Contains(body, `"kept"`) {
		t.Fatalf("group after restart = %d %s", code, body)
	}
	s.stop(t)
}

func TestSeededAdminToken(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.NoGateway = true
	cfg.Admin.Token = "seeded-admin-token-0123456789"
	cfg.Admin.Email = "ops@example.com"
	cfg.Admin.Password = "correct horse battery"
	s := start(t, cfg)
	if out := s.out.String(); strings.Contains(out, "not shown again") {
		t.Fatalf("nothing was generated, but it printed %q", out)
	}
	if code, body := get(t, "GET", "http://"+cfg.Listen+"/api/v1/service_templates", cfg.Admin.Token, ""); code != 200 {
		t.Fatalf("seeded token = %d %s", code, body)
	}
	// --no-gateway: nothing listens on the data plane port.
	if c, err := net.DialTimeout("tcp", cfg.GatewayListen, time.Second); err == nil {
		c.Close()
		t.Fatal("--no-gateway, yet something listens on the gateway port")
	}
	s.stop(t)
}

func TestStartFailsCleanlyOnBadEtcd(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.EtcdListen = "not a url"
	err := run(context.Background(), cfg, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "etcd") {
		t.Fatalf("run = %v, want an etcd error", err)
	}
}

// The real binary: SIGTERM while a request is in flight; the request
// completes, the process exits 0 and the data is on disk.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	const token = "sigterm-admin-token-0123456789"
	dir := t.TempDir()
	listen := freeAddr(t)
	args := fmt.Sprintf("--data-dir %s --listen %s --etcd-listen http://%s --etcd-peer-listen http://%s --gateway-listen %s --shutdown-timeout 20s",
		dir, listen, freeAddr(t), freeAddr(t), freeAddr(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DEVPORTAL_TEST_MAIN=1", "DEVPORTAL_TEST_ARGS="+args,
		"DEVPORTAL_ADMIN_TOKEN="+token, "DATABASE_URL=", "ETCD_ENDPOINTS=")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	waitHealthy(t, "http://"+listen, func() (error, bool) {
		select {
		case <-exited:
			return fmt.Errorf("exited: %v\n%s", waitErr, stderr.String()), true
		default:
			return nil, false
		}
	})

	// A request in flight: headers and half the body sent before SIGTERM,
	// the rest after.
	conn, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"in-flight","prefix":"/in_flight"}`
	fmt.Fprintf(conn, "POST /api/v1/gateway_groups HTTP/1.1\r\nHost: test\r\nX-API-KEY: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		token, len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case <-exited:
		t.Fatalf("exited while a request was in flight: %v\n%s", waitErr, stderr.String())
	default:
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request = %d, want 201", resp.StatusCode)
	}

	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", waitErr, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no exit within 60s of SIGTERM\n%s", stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, "devportal: stopped") || strings.Contains(log, token) {
		t.Fatalf("log lacks the clean stop, or shows the token:\n%s", log)
	}
	for _, p := range []string{"portal.db", "etcd/member"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":             "postgres://u@h/db",
		"ETCD_ENDPOINTS":           "http://a:2379, http://b:2379,",
		"DEVPORTAL_ADMIN_TOKEN":    " tok ",
		"DEVPORTAL_ADMIN_EMAIL":    "a@b.c",
		"DEVPORTAL_ADMIN_PASSWORD": "pw",
	}
	cfg, err := loadConfig([]string{"--no-gateway", "--etcd-max-txn-ops", "64"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":8080" || cfg.DataDir != "./data" || cfg.GatewayListen != ":9080" || cfg.EtcdListen != "http://127.0.0.1:2379" {
		t.Errorf("defaults = %+v", cfg)
	}
	if cfg.DatabaseURL != "postgres://u@h/db" || len(cfg.EtcdEndpoints) != 2 || cfg.EtcdEndpoints[1] != "http://b:2379" {
		t.Errorf("from env = %+v", cfg)
	}
	if !cfg.NoGateway || cfg.EtcdMaxTxnOps != 64 || cfg.Admin.Token != "tok" || cfg.Admin.Email != "a@b.c" || cfg.Admin.Password != "pw" {
		t.Errorf("flags and seed = %+v", cfg)
	}
	if _, err := loadConfig([]string{"--etcd-max-txn-ops", "-1"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("negative --etcd-max-txn-ops accepted")
	}
	if _, err := loadConfig([]string{"stray"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("stray argument accepted")
	}
}

func TestStartFailsCleanlyWhenPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t, t.TempDir())
	cfg.Listen = taken.Addr().String()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), cfg, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Fatalf("run = %v, want a listen error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run hangs when its port is taken")
	}
}

// With DATABASE_URL set to PostgreSQL, the binary runs on it (in a schema
// of its own) and keeps its data across a restart.
func TestRunOnPostgres(t *testing.T) {
	base := os.Getenv("DATABASE_URL")
	if !models.IsPostgres(base) {
		t.Skip("DATABASE_URL is not set to PostgreSQL")
	}
	admin, err := models.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "t_" + ids.New()
	if err := admin.Exec(`CREATE SCHEMA "` + schema + `"`).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA "` + schema + `" CASCADE`)
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	cfg := testConfig(t, t.TempDir())
	cfg.DatabaseURL = u.String()
	cfg.NoGateway = true
	cfg.Admin.Token = "postgres-admin-token-0123456789"
	s := start(t, cfg)
	base = "http://" + cfg.Listen
	if code, body := get(t, "POST", base+"/api/v1/plugin_templates", cfg.Admin.Token, `{"name":"pg","plugins":{"cors":{}}}`); code != 201 {
		t.Fatalf("create on PostgreSQL = %d %s", code, body)
	}
	s.stop(t)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "portal.db")); err == nil {
		t.Fatal("a SQLite file was created although DATABASE_URL is PostgreSQL")
	}
	s = start(t, cfg)
	if code, body := get(t, "GET", base+"/api/v1/plugin_templates?search=pg", cfg.Admin.Token, ""); code != 200 || !strings.Contains(body, `"total":1`) {
		t.Fatalf("after restart = %d %s", code, body)
	}
	s.stop(t)
}
