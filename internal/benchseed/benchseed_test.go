package benchseed

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/config"
	"devportal/internal/etcdtest"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

// load reads the prefix as a data plane node does.
func load(t *testing.T, c Config) *config.Snapshot {
	t.Helper()
	kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
	s := config.NewStore(member.Client(t), c.Prefix, kr, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s.Current()
}

// every checks that each route lets each of its members' keys through.
func every(t *testing.T, c Config, s *config.Snapshot) {
	t.Helper()
	for i := 0; i < c.Routes; i++ {
		rt, ok := s.Route(RouteID(i))
		if !ok || rt.Plugins.KeyAuth == nil || rt.Plugins.LimitCount == nil {
			t.Fatalf("route %d: %v %+v", i, ok, rt)
		}
		for j := 0; j < c.Members(i); j++ {
			m := c.Member(i, j)
			cons := s.ConsumerByKey([]byte(Key(m)))
			if cons == nil || cons.Username != ConsumerName(m) {
				t.Fatalf("key of consumer %d: %+v", m, cons)
			}
			if !rt.Plugins.Restriction.Allows(cons.Username) {
				t.Fatalf("route %d does not let %s through", i, cons.Username)
			}
		}
	}
}

func TestSeedAndChurnKeepMembers(t *testing.T) {
	c := Config{Prefix: etcdtest.Prefix(t), Routes: 12, Consumers: Reserved + 50, BigRoutes: 2, Whitelist: 3, Upstream: "127.0.0.1:1980"}
	ctx := context.Background()
	keys, _, err := Seed(ctx, member.Client(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + Services + 2*c.Consumers + c.Routes; keys != want {
		t.Fatalf("wrote %d keys, want %d", keys, want)
	}
	s := load(t, c)
	if got := s.Counts(); got["routes"] != c.Routes || got["consumers"] != c.Consumers || got["keys"] != c.Consumers {
		t.Fatalf("counts %v", got)
	}
	every(t, c, s)

	w := &Writer{Cli: member.Client(t), Cfg: c, BigEvery: 4, Seed: 7}
	for k := 0; k < 40; k++ {
		if err := w.RouteChange(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.ConsumerChange(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	if st.RouteChanges != 40 || st.BigRouteChanges != 10 || st.ConsumerChanges != 40 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	s = load(t, c)
	every(t, c, s)
	// 40 consumer changes: 8 consumer rewrites, the rest credentials added
	// (16 first, then every other one) and removed.
	if got := s.Counts()["keys"]; got <= c.Consumers {
		t.Fatalf("no churn credential is live: %d keys", got)
	}
}

// A writer of a later window goes on from what etcd holds: its first
// change to a big route moves one name, not every name an earlier writer
// moved to the end.
func TestWriterGoesOnFromEtcd(t *testing.T) {
	c := Config{Prefix: etcdtest.Prefix(t), Routes: 3, Consumers: Reserved + 20, BigRoutes: 1, Whitelist: 3, Upstream: "127.0.0.1:1980"}
	ctx := context.Background()
	cli := member.Client(t)
	if _, _, err := Seed(ctx, cli, c); err != nil {
		t.Fatal(err)
	}
	whitelist := func() []string {
		resp, err := cli.Get(ctx, apisix.Key(c.Prefix, apisix.KindRoutes, RouteID(0)))
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatal(err)
		}
		var r apisix.Route
		var cr struct{ Whitelist []string }
		if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r.Plugins["consumer-restriction"], &cr); err != nil {
			t.Fatal(err)
		}
		return cr.Whitelist
	}
	// Every change on the big route: names taken off and put back at the end.
	first := &Writer{Cli: cli, Cfg: c, BigEvery: 1, Seed: 1}
	for k := 0; k < 9; k++ {
		if err := first.RouteChange(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := whitelist()
	next := &Writer{Cli: cli, Cfg: c, BigEvery: 1, Seed: 2}
	if err := next.RouteChange(ctx); err != nil {
		t.Fatal(err)
	}
	after := whitelist()
	p := 0
	for p < len(before) && p < len(after) && before[p] == after[p] {
		p++
	}
	q := 0
	for q < len(before)-p && q < len(after)-p && before[len(before)-1-q] == after[len(after)-1-q] {
		q++
	}
	if changed := len(before) - p - q + len(after) - p - q; changed != 1 {
		t.Fatalf("the later writer's first change moved %d names (%d before, %d after)", changed, len(before), len(after))
	}
}
