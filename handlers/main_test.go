package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/gateway/etcdstore"
	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/portal/accounts"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

const adminToken = "test-admin-token-0123456789"

// env is the Admin API on a real control core: a fresh database and the
// package's embedded etcd.
type env struct {
	app *fiber.App
	gw  *gateway.Service
	db  *gorm.DB
	cli *clientv3.Client
}

func newEnv(t *testing.T, db *gorm.DB, edit ...func(*handlers.Config)) *env {
	t.Helper()
	clients := etcdstore.NewClients(member.Endpoints())
	t.Cleanup(clients.Close)
	gw := gateway.New(db, clients)
	ctx := context.Background()
	if err := gw.EnsureDefaults(ctx); err != nil {
		t.Fatalf("EnsureDefaults: %v", err)
	}
	acc := accounts.New(db)
	if _, err := acc.EnsureAdmin(ctx, accounts.Seed{Token: adminToken}); err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{Gateway: gw, Accounts: acc, PingDB: sqlDB.PingContext}
	for _, e := range edit {
		e(&cfg)
	}
	return &env{app: handlers.New(cfg), gw: gw, db: db, cli: member.Client(t)}
}

// each runs f on SQLite, and on PostgreSQL when DATABASE_URL is set.
func each(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, newEnv(t, db)) })
}

// response is what a test reads of an answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("answer %d is not JSON (%v): %s", r.Status, err, r.Body)
	}
}

// Error is the error body of an answer.
func (r response) Error(t *testing.T) (code, message string, fields map[string]string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	r.JSON(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("answer %d has no error code and message: %s", r.Status, r.Body)
	}
	return e.Error.Code, e.Error.Message, e.Error.Fields
}

// raw sends a request with the given key ("" for none) and content type.
func (e *env) raw(t *testing.T, method, path, key, contentType, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set(handlers.APIKeyHeader, key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.app.Test(req, fiber.TestConfig{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// call sends an authenticated JSON request; body is marshalled unless it is
// already a string.
func (e *env) call(t *testing.T, method, path string, body any) response {
	t.Helper()
	var s string
	switch b := body.(type) {
	case nil:
	case string:
		s = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		s = string(j)
	}
	ct := ""
	if s != "" {
		ct = "application/json"
	}
	return e.raw(t, method, path, adminToken, ct, s)
}

// must sends call and fails unless the status is want; it decodes into out.
func (e *env) must(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	r := e.call(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	if out != nil {
		r.JSON(t, out)
	}
}

// keys lists the etcd keys under prefix, relative to it.
func (e *env) keys(t *testing.T, prefix string) []string {
	t.Helper()
	resp, err := e.cli.Get(context.Background(), prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, strings.TrimPrefix(string(kv.Key), prefix))
	}
	return out
}

var errDown = errors.New("connection refused")
