package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/plugin"
)

const prefix = "/apisix"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func keyring(t testing.TB) *apisix.Keyring {
	k, err := apisix.NewKeyring(apisix.DefaultKeyring)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func put(key string, v any) Event {
	b, _ := json.Marshal(v)
	return Event{Key: prefix + "/" + key, Value: b}
}

// consumers builds a snapshot with n consumers, each with an encrypted key,
// and one route whitelisting all of them.
func consumers(t testing.TB, n int) *Snapshot {
	kr := keyring(t)
	events := make([]Event, 0, n+1)
	names := make([]string, 0, n)
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("app_%d", i)
		names = append(names, u)
		events = append(events, put("consumers/"+u, map[string]any{"username": u,
			"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("key-" + u)}}}))
	}
	events = append(events, put("routes/1", map[string]any{"uri": "/x", "upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}},
		"plugins": map[string]any{"key-auth": map[string]any{}, "consumer-restriction": map[string]any{"whitelist": names}}}))
	return Apply(emptySnapshot(), events, prefix, kr, quiet)
}

func TestConsumerChangeLeavesRouterAlone(t *testing.T) {
	s1 := consumers(t, 100)
	if c := s1.ConsumerByKey([]byte("key-app_7")); c == nil || c.Username != "app_7" {
		t.Fatalf("lookup: %+v", c)
	}
	s2 := Apply(s1, []Event{put("consumers/app_7", map[string]any{"username": "app_7",
		"plugins": map[string]any{"key-auth": map[string]any{"key": keyring(t).Encrypt("rotated")}}})}, prefix, keyring(t), quiet)
	if s2.Router != s1.Router {
		t.Fatal("a consumer change rebuilt the router")
	}
	if s2.ConsumerByKey([]byte("key-app_7")) != nil || s2.ConsumerByKey([]byte("rotated")) == nil {
		t.Fatal("key not rotated")
	}
	if s1.ConsumerByKey([]byte("key-app_7")) == nil {
		t.Fatal("old snapshot changed")
	}
	// A credential adds a second key for the same consumer.
	s3 := Apply(s2, []Event{put("consumers/app_7/credentials/c1", map[string]any{"id": "c1",
		"plugins": map[string]any{"key-auth": map[string]any{"key": "cred-key"}}})}, prefix, keyring(t), quiet)
	if c := s3.ConsumerByKey([]byte("cred-key")); c == nil || c.Username != "app_7" || c.CredentialID != "c1" {
		t.Fatalf("credential lookup %+v", c)
	}
	if s3.ConsumerByKey([]byte("rotated")) == nil {
		t.Fatal("consumer key lost when a credential was added")
	}
}

func TestDuplicateKeyLastInKeyOrderWins(t *testing.T) {
	kr := keyring(t)
	s := Apply(emptySnapshot(), []Event{
		put("consumers/a", map[string]any{"username": "a", "plugins": map[string]any{"key-auth": map[string]any{"key": "same"}}}),
		put("consumers/b", map[string]any{"username": "b", "plugins": map[string]any{"key-auth": map[string]any{"key": "same"}}}),
	}, prefix, kr, quiet)
	if c := s.ConsumerByKey([]byte("same")); c == nil || c.Username != "b" {
		t.Fatalf("got %+v", c)
	}
	s = Apply(s, []Event{{Key: prefix + "/consumers/b", Delete: true}}, prefix, kr, quiet)
	if c := s.ConsumerByKey([]byte("same")); c == nil || c.Username != "a" {
		t.Fatalf("after delete got %+v", c)
	}
	// One owner again takes a second in a later batch, then loses both.
	s = Apply(s, []Event{put("consumers/c", map[string]any{"username": "c", "plugins": map[string]any{"key-auth": map[string]any{"key": "same"}}})}, prefix, kr, quiet)
	if c := s.ConsumerByKey([]byte("same")); c == nil || c.Username != "c" {
		t.Fatalf("after a later owner got %+v", c)
	}
	s = Apply(s, []Event{{Key: prefix + "/consumers/c", Delete: true}, {Key: prefix + "/consumers/a", Delete: true}}, prefix, kr, quiet)
	if c := s.ConsumerByKey([]byte("same")); c != nil {
		t.Fatalf("a key with no owner left found %+v", c)
	}
	if s.keys.Len() != 0 {
		t.Fatalf("%d keys left", s.keys.Len())
	}
}

func benchLookup(b *testing.B, n int) {
	s := consumers(b, n)
	key := []byte(fmt.Sprintf("key-app_%d", n/2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.ConsumerByKey(key) == nil {
			b.Fatal("not found")
		}
	}
}

func BenchmarkKeyLookup100(b *testing.B)  { benchLookup(b, 100) }
func BenchmarkKeyLookup100k(b *testing.B) { benchLookup(b, 100000) }

func benchWhitelist(b *testing.B, n int) {
	s := consumers(b, n)
	rt, _ := s.Route("1")
	c := &plugin.Ctx{Consumer: s.ConsumerByName(fmt.Sprintf("app_%d", n-1))}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rt.Plugins.Restriction.Access(c) != nil {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkWhitelist100(b *testing.B)  { benchWhitelist(b, 100) }
func BenchmarkWhitelist100k(b *testing.B) { benchWhitelist(b, 100000) }

// One consumer's key changes among 100k consumers.
func BenchmarkApplyOneConsumerChangeAt100k(b *testing.B) {
	s := consumers(b, 100000)
	kr := keyring(b)
	evs := []Event{
		put("consumers/app_5", map[string]any{"username": "app_5", "plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("a")}}}),
		put("consumers/app_5", map[string]any{"username": "app_5", "plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("b")}}}),
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s = Apply(s, evs[i%2:i%2+1], prefix, kr, quiet)
	}
}

// One route (of 10k) changes while 100k consumers are loaded.
func BenchmarkApplyOneRouteChangeAt10kRoutes(b *testing.B) {
	kr := keyring(b)
	events := make([]Event, 0, 10000)
	for i := 0; i < 10000; i++ {
		events = append(events, put(fmt.Sprintf("routes/%d", i), map[string]any{"uri": fmt.Sprintf("/svc%d/*", i),
			"upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}},
			"plugins":  map[string]any{"key-auth": map[string]any{}, "limit-count": map[string]any{"count": 10, "time_window": 60}}}))
	}
	s := Apply(emptySnapshot(), events, prefix, kr, quiet)
	evs := []Event{events[5000], put("routes/5000", map[string]any{"uri": "/changed/*",
		"upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}}})}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s = Apply(s, evs[i%2:i%2+1], prefix, kr, quiet)
	}
}

// For comparison: building the whole consumer table of 100k consumers, as
// APISIX does on any consumer change.
func BenchmarkApplyFull100kConsumers(b *testing.B) {
	kr := keyring(b)
	events := make([]Event, 0, 100000)
	for i := 0; i < 100000; i++ {
		u := fmt.Sprintf("app_%d", i)
		events = append(events, put("consumers/"+u, map[string]any{"username": u,
			"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("key-" + u)}}}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Apply(emptySnapshot(), events, prefix, kr, quiet)
	}
}

// A batch large enough to be decoded in parallel (a full load) gives the
// same snapshot as the same events applied in small sequential batches:
// invalid values skipped, keys not encrypted with the keyring kept as stored,
// deletes and credentials applied in order.
func TestParallelDecodeMatchesSequential(t *testing.T) {
	kr := keyring(t)
	var events []Event
	for i := 0; i < 3*parallelMin; i++ {
		u := fmt.Sprintf("u%d", i)
		switch i % 7 {
		case 0:
			events = append(events, Event{Key: prefix + "/consumers/" + u, Value: []byte(`{"username":`)}) // invalid
		case 1:
			events = append(events, put("consumers/"+u, map[string]any{"username": u,
				"plugins": map[string]any{"key-auth": map[string]any{"key": "clear-" + u}}})) // not encrypted
		case 2:
			events = append(events, put("consumers/"+u, map[string]any{"username": u,
				"plugins": map[string]any{"key-auth": map[string]any{}}})) // no key: skipped
		case 3:
			events = append(events, put("consumers/"+u, map[string]any{"username": u,
				"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("k-" + u)}}}),
				Event{Key: prefix + "/consumers/" + u, Delete: true})
		case 4:
			events = append(events, put("consumers/"+u, map[string]any{"username": u}),
				put("consumers/"+u+"/credentials/c", map[string]any{"id": "c",
					"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("cred-" + u)}}}))
		default:
			events = append(events, put("consumers/"+u, map[string]any{"username": u,
				"plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("k-" + u)}}}))
		}
	}
	whole := Apply(emptySnapshot(), events, prefix, kr, quiet)
	parts := emptySnapshot()
	for lo := 0; lo < len(events); lo += 100 {
		parts = Apply(parts, events[lo:min(lo+100, len(events))], prefix, kr, quiet)
	}
	if whole.consumers.Len() != parts.consumers.Len() || whole.keys.Len() != parts.keys.Len() {
		t.Fatalf("consumers %d/%d keys %d/%d", whole.consumers.Len(), parts.consumers.Len(), whole.keys.Len(), parts.keys.Len())
	}
	for i := 0; i < 3*parallelMin; i++ {
		u := fmt.Sprintf("u%d", i)
		for _, k := range []string{"k-" + u, "clear-" + u, "cred-" + u} {
			a, b := whole.ConsumerByKey([]byte(k)), parts.ConsumerByKey([]byte(k))
			if (a == nil) != (b == nil) || (a != nil && (a.Username != b.Username || a.CredentialID != b.CredentialID)) {
				t.Fatalf("key %s: %+v vs %+v", k, a, b)
			}
		}
		if (whole.ConsumerByName(u) == nil) != (parts.ConsumerByName(u) == nil) {
			t.Fatalf("consumer %s differs", u)
		}
	}
	if whole.ConsumerByKey([]byte("clear-u1")) == nil || whole.ConsumerByKey([]byte("k-u5")) == nil ||
		whole.ConsumerByName("u0") != nil || whole.ConsumerByName("u3") != nil || whole.ConsumerByKey([]byte("cred-u4")) == nil {
		t.Fatal("unexpected snapshot")
	}
}
