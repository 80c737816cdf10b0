package benchseed

import (
	"context"
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
