package static_test

import (
	"strings"
	"testing"

	"devportal/static"
)

func TestURLAndLookup(t *testing.T) {
	for _, name := range []string{"css/app.css", "js/app.js"} {
		u := static.URL(name)
		if !strings.HasPrefix(u, static.Prefix) || !strings.HasSuffix(u, "/"+name) || strings.Contains(u, "/0/") {
			t.Fatalf("URL(%q) = %q, want a hashed address", name, u)
		}
		body, ct, current, ok := static.Lookup(strings.TrimPrefix(u, static.Prefix))
		if !ok || !current || len(body) == 0 || ct == "" {
			t.Fatalf("Lookup(%q) = %d bytes, %q, current %v, ok %v", u, len(body), ct, current, ok)
		}
		if _, _, current, ok := static.Lookup("stale/" + name); !ok || current {
			t.Fatalf("an old hash: ok %v current %v; want served, not current", ok, current)
		}
	}
	for _, bad := range []string{"", "x", "h/../static.go", "h/nope.css"} {
		if _, _, _, ok := static.Lookup(bad); ok {
			t.Fatalf("Lookup(%q) found something", bad)
		}
	}
}
