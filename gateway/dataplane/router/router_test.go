package router

import (
	"fmt"
	"net/netip"
	"testing"
)

func rt(id string, paths []string, hosts []string, prio int, methods ...string) *Route[string] {
	return &Route[string]{ID: id, Paths: paths, Hosts: hosts, Priority: prio, Methods: methods, Value: id}
}

func match(r *Router[string], method, host, path string) string {
	m := r.Match(&Request{Method: method, Host: host, Path: path, RemoteAddr: netip.MustParseAddr("127.0.0.1")})
	if m == nil {
		return ""
	}
	return m.Value
}

func TestMatchOrder(t *testing.T) {
	r := New[string]().Update(nil, []*Route[string]{
		rt("exact", []string{"/a"}, nil, 0),
		rt("prefix", []string{"/a/*"}, nil, 0),
		rt("longer", []string{"/a/b/*"}, nil, 0),
		rt("glob", []string{"/ab*"}, nil, 0),
		rt("prio-low", []string{"/p"}, nil, 1),
		rt("prio-high", []string{"/p"}, nil, 5, "POST"),
		rt("host", []string{"/a"}, []string{"x.com"}, 0),
		rt("wild", []string{"/a"}, []string{"*.y.com"}, 0),
		rt("wild-longer", []string{"/a"}, []string{"*.z.y.com"}, 0),
		rt("root", []string{"/*"}, nil, -1),
	})
	cases := []struct{ method, host, path, want string }{
		{"GET", "", "/a", "exact"},
		{"GET", "", "/a/", "prefix"},
		{"GET", "", "/a/b/c", "longer"},
		{"GET", "", "/abc", "glob"},
		{"GET", "", "/p", "prio-low"},
		{"POST", "", "/p", "prio-high"},
		{"GET", "x.com", "/a", "host"},
		{"GET", "q.y.com", "/a", "wild"},
		{"GET", "q.z.y.com", "/a", "wild-longer"},
		{"GET", "y.com", "/a", "exact"},
		{"GET", "", "/zzz", "root"},
	}
	for _, c := range cases {
		if got := match(r, c.method, c.host, c.path); got != c.want {
			t.Errorf("%s %s %s: got %q want %q", c.method, c.host, c.path, got, c.want)
		}
	}
}

func TestUpdateIsPersistent(t *testing.T) {
	r1 := New[string]().Update(nil, []*Route[string]{rt("1", []string{"/a"}, nil, 0), rt("2", []string{"/b/*"}, []string{"h.com"}, 0)})
	r2 := r1.Update([]string{"1"}, []*Route[string]{rt("2", []string{"/c"}, nil, 0)})
	if match(r1, "GET", "", "/a") != "1" || match(r1, "GET", "h.com", "/b/x") != "2" {
		t.Fatal("old router changed")
	}
	if match(r2, "GET", "", "/a") != "" || match(r2, "GET", "h.com", "/b/x") != "" || match(r2, "GET", "", "/c") != "2" {
		t.Fatal("new router wrong")
	}
	if r2.Len() != 1 || r1.Len() != 2 {
		t.Fatalf("lens %d %d", r1.Len(), r2.Len())
	}
}

func TestRemoteAddrsAndVars(t *testing.T) {
	v, err := ParseVars([]byte(`[["arg_name","==","json"],["http_x","!","~~","^bad"]]`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ParsePrefix("10.0.0.0/8")
	r := New[string]().Update(nil, []*Route[string]{
		{ID: "v", Paths: []string{"/v"}, Vars: v, Value: "v"},
		{ID: "ip", Paths: []string{"/ip"}, RemoteAddrs: []netip.Prefix{p}, Value: "ip"},
	})
	vars := map[string]string{"arg_name": "json", "http_x": "good"}
	req := &Request{Method: "GET", Path: "/v", Var: func(n string) string { return vars[n] }}
	if m := r.Match(req); m == nil {
		t.Fatal("vars should match")
	}
	vars["http_x"] = "badder"
	if m := r.Match(req); m != nil {
		t.Fatal("negated regex should fail")
	}
	if m := r.Match(&Request{Path: "/ip", RemoteAddr: netip.MustParseAddr("10.1.2.3")}); m == nil {
		t.Fatal("remote addr in range")
	}
	if m := r.Match(&Request{Path: "/ip", RemoteAddr: netip.MustParseAddr("11.1.2.3")}); m != nil {
		t.Fatal("remote addr out of range")
	}
	if _, err := ParseVars([]byte(`[["a","nope","b"]]`)); err == nil {
		t.Fatal("unknown operator accepted")
	}
}

func buildRouter(n int) *Router[string] {
	routes := make([]*Route[string], 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprint(i)
		switch i % 3 {
		case 0:
			routes = append(routes, rt(id, []string{fmt.Sprintf("/svc%d/exact", i)}, nil, 0, "GET"))
		case 1:
			routes = append(routes, rt(id, []string{fmt.Sprintf("/svc%d/v1/*", i)}, nil, 0))
		default:
			routes = append(routes, rt(id, []string{fmt.Sprintf("/api/%d", i)}, []string{fmt.Sprintf("h%d.example.com", i%50)}, 0))
		}
	}
	return New[string]().Update(nil, routes)
}

func benchMatch(b *testing.B, n int) {
	r := buildRouter(n)
	target := n - 2 // a prefix route
	if target%3 != 1 {
		target = 1
	}
	path := fmt.Sprintf("/svc%d/v1/pets/42", target)
	req := &Request{Method: "GET", Host: "unknown.example.com", Path: path, RemoteAddr: netip.MustParseAddr("127.0.0.1")}
	if r.Match(req) == nil {
		b.Fatal("no match")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r.Match(req) == nil {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatch10Routes(b *testing.B)  { benchMatch(b, 10) }
func BenchmarkMatch10kRoutes(b *testing.B) { benchMatch(b, 10000) }
func BenchmarkMatchExact10k(b *testing.B) {
	r := buildRouter(10000)
	req := &Request{Method: "GET", Path: "/svc9999/exact"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r.Match(req) == nil {
			b.Fatal("no match")
		}
	}
}

// One route changed in a 10k-route router: only its path list and bucket are copied.
func BenchmarkUpdateOneRouteOf10k(b *testing.B) {
	r := buildRouter(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r = r.Update(nil, []*Route[string]{rt("5000", []string{fmt.Sprintf("/changed/%d", i%2)}, nil, 0)})
	}
}
