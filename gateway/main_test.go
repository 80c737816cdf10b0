package gateway

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm"

	"devportal/gateway/etcdstore"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/models"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

// fixture is a control core on a fresh database, with a group of its own.
type fixture struct {
	svc   *Service
	db    *gorm.DB
	cli   *clientv3.Client
	group Group
	ctx   context.Context
}

func newFixture(t testing.TB, db *gorm.DB, opts ...Option) *fixture {
	t.Helper()
	clients := etcdstore.NewClients(member.Endpoints())
	t.Cleanup(clients.Close)
	svc := New(db, clients, opts...)
	ctx := context.Background()
	if err := svc.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateGroup(ctx, GroupInput{Name: dbtest.Name("g"), Prefix: "/" + dbtest.Name("t")})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, cli: member.Client(t), group: g, ctx: ctx}
}

// each runs f on SQLite, and on PostgreSQL when DATABASE_URL is set.
func each(t *testing.T, f func(t *testing.T, fx *fixture)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, newFixture(t, db)) })
}

// dump reads every key under a prefix as decoded JSON.
func (fx *fixture) dump(t *testing.T, prefix string) map[string]map[string]any {
	t.Helper()
	return dumpFrom(t, fx.cli, prefix)
}

// dumpFrom reads every key under a prefix of a given cluster as decoded JSON.
func dumpFrom(t *testing.T, cli *clientv3.Client, prefix string) map[string]map[string]any {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix+"/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, kv := range resp.Kvs {
		var v map[string]any
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			t.Fatalf("%s is not JSON: %s", kv.Key, kv.Value)
		}
		out[string(kv.Key)[len(prefix):]] = v
	}
	return out
}

func (fx *fixture) revision(t *testing.T) int64 {
	t.Helper()
	resp, err := fx.cli.Get(fx.ctx, "rev-probe")
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

func httpSpec(name string, paths ...string) models.ServiceSpec {
	return models.ServiceSpec{
		Name: name, Type: TypeHTTP,
		Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: 8081, Weight: 1}}},
		Routes:   []models.RouteSpec{{Name: "r1", Paths: paths, Methods: []string{"get"}}},
	}
}

func mustTemplate(t *testing.T, fx *fixture, spec models.ServiceSpec) ServiceTemplate {
	t.Helper()
	tpl, err := fx.svc.CreateTemplate(fx.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func mustPublish(t *testing.T, fx *fixture, tid string, in PublishInput) PublishedService {
	t.Helper()
	if in.GatewayGroupID == "" {
		in.GatewayGroupID = fx.group.ID
	}
	p, err := fx.svc.Publish(fx.ctx, tid, in)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return p
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// dbtestEachWith is each with options for the Service.
func dbtestEachWith(t *testing.T, opts []Option, f func(t *testing.T, fx *fixture)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { f(t, newFixture(t, db, opts...)) })
}
