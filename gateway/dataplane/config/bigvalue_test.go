package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"devportal/gateway/apisix"
)

// A big route decodes as encoding/json decodes it, fast path or not.
func TestDecodeRouteMatchesDecode(t *testing.T) {
	big := string(bigWhitelistRoute("r1", 8000, -1).Value)
	if len(big) < bigValue {
		t.Fatalf("test route of %d bytes is not big", len(big))
	}
	for name, in := range map[string]string{
		"as written":         big,
		"escaped name":       strings.Replace(big, `"app_7"`, `"app\u005f7"`, 1),
		"Plugins":            strings.Replace(big, `"plugins"`, `"Plugins"`, 1),
		"two plugin entries": strings.Replace(big, `"key-auth":`, `"limit-count":{"count":1,"time_window":1},"key-auth":`, 1),
		"spaces":             strings.Replace(big, `,`, " , ", 40),
		"broken":             big[:len(big)-1],
		"bad field":          strings.Replace(big, `"uri":"/bigr1/*"`, `"uri":5`, 1),
	} {
		var slow apisix.Route
		fast, _, errFast := decodeRoute([]byte(in), nil)
		errSlow := decode([]byte(in), &slow)
		if (errFast == nil) != (errSlow == nil) || !reflect.DeepEqual(*fast, slow) {
			t.Errorf("%s: decodeRoute %v, decode %v; equal %v", name, errFast, errSlow, reflect.DeepEqual(fast, slow))
		}
	}
}

// Subscriptions approved and revoked on a big route: each snapshot lets
// exactly its whitelist through, and earlier snapshots stay as they were.
func TestBigWhitelistChanges(t *testing.T) {
	kr := keyring(t)
	s0 := Apply(emptySnapshot(), []Event{
		put("services/s1", map[string]any{"id": "s1", "upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}}}),
		bigWhitelistRoute("big", 5000, -1),
	}, prefix, kr, quiet)
	s1 := Apply(s0, []Event{bigWhitelistRoute("big", 5000, 1)}, prefix, kr, quiet)
	s2 := Apply(s1, []Event{bigWhitelistRoute("big", 4999, 1)}, prefix, kr, quiet) // app_4999 dropped
	allows := func(s *Snapshot, name string) bool {
		rt, ok := s.Route("big")
		return ok && rt.Plugins.Restriction.Allows(name)
	}
	for _, c := range []struct {
		s    *Snapshot
		name string
		want bool
	}{
		{s0, "app_0", true}, {s0, "app_4999", true}, {s0, "app_x1", false},
		{s1, "app_0", true}, {s1, "app_4999", true}, {s1, "app_x1", true},
		{s2, "app_0", true}, {s2, "app_4999", false}, {s2, "app_x1", true}, {s2, "app_4998", true},
	} {
		if got := allows(c.s, c.name); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for i := 0; i < 4999; i += 97 {
		if !allows(s2, fmt.Sprintf("app_%d", i)) {
			t.Fatalf("app_%d lost", i)
		}
	}
}
