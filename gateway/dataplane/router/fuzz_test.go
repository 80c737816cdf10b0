package router

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// parseSpec reads fuzzed routes: one a line, fields split by "|":
// paths,hosts,methods (comma lists) | priority | remote addrs | vars as
// name=value pairs (each an "==" condition) | id (default r<line>; a
// repeated id replaces the earlier route, as a put of the same key does).
func parseSpec(spec string) []*Route[string] {
	var out []*Route[string]
	for i, line := range strings.Split(spec, "\n") {
		if i >= 16 {
			break
		}
		f := strings.Split(line, "|")
		for len(f) < 7 {
			f = append(f, "")
		}
		rt := &Route[string]{ID: "r" + strconv.Itoa(i)}
		if f[6] != "" {
			rt.ID = f[6]
		}
		rt.Value = rt.ID
		rt.Paths = splitList(f[0])
		if len(rt.Paths) == 0 {
			rt.Paths = []string{"/"}
		}
		rt.Hosts = splitList(f[1])
		rt.Methods = splitList(f[2])
		rt.Priority, _ = strconv.Atoi(f[3])
		for _, a := range splitList(f[4]) {
			if p, err := ParsePrefix(a); err == nil {
				rt.RemoteAddrs = append(rt.RemoteAddrs, p)
			}
		}
		var conds [][]string
		for _, kv := range splitList(f[5]) {
			k, v, _ := strings.Cut(kv, "=")
			conds = append(conds, []string{k, "==", v})
		}
		if len(conds) > 0 {
			raw, _ := json.Marshal(conds)
			v, err := ParseVars(raw)
			if err != nil {
				panic(err) // a list of string == conditions always parses
			}
			rt.Vars = v
			rt.Value += "\x00" + string(raw) // keep the conditions for the reference
		}
		out = append(out, rt)
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// refMatch is the reference: APISIX's radixtree_host_uri order written as
// a plain scan. Every (host, path) pair of every route that applies to the
// request gets a rank: host tier (exact host, wildcard by longest suffix,
// no host), path tier (exact, prefix by longest), priority (highest
// first), id; the lowest-ranked route whose methods, remote addrs and vars
// accept the request wins.
func refMatch(routes []*Route[string], req *Request, vars map[string]string) *Route[string] {
	byID := map[string]*Route[string]{}
	var order []string
	for _, rt := range routes {
		if _, ok := byID[rt.ID]; !ok {
			order = append(order, rt.ID)
		}
		byID[rt.ID] = rt // a repeated id replaces the route
	}
	type rank struct{ host, hostLen, path, pathLen, prio int }
	less := func(a, b rank, aid, bid string) bool {
		if a.host != b.host {
			return a.host < b.host
		}
		if a.hostLen != b.hostLen {
			return a.hostLen > b.hostLen
		}
		if a.path != b.path {
			return a.path < b.path
		}
		if a.pathLen != b.pathLen {
			return a.pathLen > b.pathLen
		}
		if a.prio != b.prio {
			return a.prio > b.prio
		}
		return aid < bid
	}
	var best *Route[string]
	var bestRank rank
	for _, id := range order {
		rt := byID[id]
		if !refAccepts(rt, req, vars) {
			continue
		}
		hosts := rt.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		for _, h := range hosts {
			var hr rank
			switch {
			case h == "":
				hr.host = 2
			case req.Host == "":
				continue
			case strings.HasPrefix(h, "*"):
				if !strings.HasSuffix(req.Host, h[1:]) {
					continue
				}
				hr.host, hr.hostLen = 1, len(h)-1
			case h == req.Host:
				hr.host = 0
			default:
				continue
			}
			for _, p := range rt.Paths {
				r := hr
				r.prio = rt.Priority
				if strings.HasSuffix(p, "*") {
					pre := p[:len(p)-1]
					if !strings.HasPrefix(req.Path, pre) {
						continue
					}
					r.path, r.pathLen = 1, len(pre)
				} else if p != req.Path {
					continue
				}
				if best == nil || less(r, bestRank, rt.ID, best.ID) {
					best, bestRank = rt, r
				}
			}
		}
	}
	return best
}

func refAccepts(rt *Route[string], req *Request, vars map[string]string) bool {
	if len(rt.Methods) > 0 && !contains(rt.Methods, req.Method) {
		return false
	}
	if len(rt.RemoteAddrs) > 0 {
		ok := false
		for _, p := range rt.RemoteAddrs {
			ok = ok || p.Contains(req.RemoteAddr.Unmap())
		}
		if !ok {
			return false
		}
	}
	if _, raw, has := strings.Cut(rt.Value, "\x00"); has {
		var conds [][]string
		_ = json.Unmarshal([]byte(raw), &conds)
		for _, c := range conds {
			if vars[c[0]] != c[2] {
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func idOf(rt *Route[string]) string {
	if rt == nil {
		return "<none>"
	}
	return rt.ID
}

// FuzzRouter: for any routes (exact and prefix paths, exact and wildcard
// hosts, methods, priorities, remote addrs, vars, replaced ids) and any
// request, matching never panics, is deterministic, gives the same route
// whether the table was built at once or one change at a time (with
// removals in between), agrees with the plain-scan reference, and every
// route matches a request made of its own path, host, method, address and
// vars when it is alone in the table.
// Run: go test ./gateway/dataplane/router -run '^$' -fuzz FuzzRouter -fuzztime 60s
func FuzzRouter(f *testing.F) {
	f.Add("/a\n/a/*\n/a/b/*\n/ab*\n/p||||||prio-low\n/p||POST|5|||prio-high\n/a|x.com\n/a|*.y.com\n/a|*.z.y.com\n/*|||-1",
		"GET", "q.z.y.com", "/a", "", []byte{1}, uint8(0))
	f.Add("/v|||||x=1\n/ip||||10.0.0.0/8\n/ip||||::1", "GET", "", "/ip", "x=1", []byte{10, 1, 2, 3}, uint8(3))
	f.Add("/a|*foo.com\n/a|foo.com\n/a|*.foo.com|GET|2", "GET", "barfoo.com", "/a", "", []byte{127, 0, 0, 1}, uint8(1))
	f.Add("/a,/a,/b*|h,h,H\n/a|h||||a=b|r0\n*", "GET", "h", "/a", "a=b", []byte{}, uint8(7))
	f.Fuzz(func(t *testing.T, spec, method, host, path, reqVars string, ip []byte, churn uint8) {
		routes := parseSpec(spec)
		vars := map[string]string{}
		for _, kv := range splitList(reqVars) {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			addr = netip.MustParseAddr("127.0.0.1")
		}
		req := &Request{Method: method, Host: host, Path: path, RemoteAddr: addr, Var: func(n string) string { return vars[n] }}

		bulk := New[string]().Update(nil, routes)
		// The same table one change at a time, with some routes removed
		// and put back on the way (churn picks which).
		inc := New[string]()
		for i, rt := range routes {
			inc = inc.Update(nil, []*Route[string]{rt})
			if churn>>(uint(i)%8)&1 == 1 {
				inc = inc.Update([]string{rt.ID, "missing"}, nil)
				inc = inc.Update(nil, []*Route[string]{rt})
			}
		}

		want := refMatch(routes, req, vars)
		a, b, c := bulk.Match(req), bulk.Match(req), inc.Match(req)
		if a != b {
			t.Fatalf("not deterministic: %s then %s", idOf(a), idOf(b))
		}
		if idOf(a) != idOf(c) {
			t.Fatalf("bulk table matched %s, incremental %s", idOf(a), idOf(c))
		}
		if idOf(a) != idOf(want) {
			t.Fatalf("%s %q %q: matched %s, reference %s", method, host, path, idOf(a), idOf(want))
		}

		// Each route alone matches its own request; with the others
		// present, what matches is what the reference says.
		for _, rt := range routes {
			own := ownRequest(rt)
			if own == nil {
				continue
			}
			if got := New[string]().Update(nil, []*Route[string]{rt}).Match(own.req); got == nil || got.ID != rt.ID {
				t.Fatalf("route %s alone does not match its own request %+v: got %s", rt.ID, own.req, idOf(got))
			}
			if got, want := bulk.Match(own.req), refMatch(routes, own.req, own.vars); idOf(got) != idOf(want) {
				t.Fatalf("own request of %s: matched %s, reference %s", rt.ID, idOf(got), idOf(want))
			}
		}

		// Removing every route empties the table.
		ids := make([]string, 0, len(routes))
		for _, rt := range routes {
			ids = append(ids, rt.ID)
		}
		for _, r := range []*Router[string]{inc, bulk} {
			empty := r.Update(ids, nil)
			if empty.Len() != 0 || empty.Match(req) != nil {
				t.Fatalf("after removing all: len %d, matched %s", empty.Len(), idOf(empty.Match(req)))
			}
			// No host bucket or path count is left behind.
			if empty.any.n != 0 || len(empty.hostWild) != 0 || empty.hostExact.Len() != 0 {
				t.Fatalf("after removing all: %d paths without host, %d wildcard and %d exact host buckets left",
					empty.any.n, len(empty.hostWild), empty.hostExact.Len())
			}
		}
	})
}

type ownReq struct {
	req  *Request
	vars map[string]string
}

// ownRequest is a request a route must accept: its first path (a prefix
// path as given, without the star), its first host (a wildcard filled
// in), its first method, address and vars.
func ownRequest(rt *Route[string]) *ownReq {
	p, _ := splitPath(rt.Paths[0])
	r := &Request{Path: p, Method: "GET", RemoteAddr: netip.MustParseAddr("127.0.0.1")}
	if len(rt.Hosts) > 0 {
		r.Host = rt.Hosts[0]
		if strings.HasPrefix(r.Host, "*") {
			r.Host = "w" + r.Host[1:]
		}
	}
	if len(rt.Methods) > 0 {
		r.Method = rt.Methods[0]
	}
	if len(rt.RemoteAddrs) > 0 {
		r.RemoteAddr = rt.RemoteAddrs[0].Addr()
	}
	vars := map[string]string{}
	if _, raw, has := strings.Cut(rt.Value, "\x00"); has {
		var conds [][]string
		_ = json.Unmarshal([]byte(raw), &conds)
		for _, c := range conds {
			if old, dup := vars[c[0]]; dup && old != c[2] {
				return nil // contradictory conditions: nothing can match
			}
			vars[c[0]] = c[2]
		}
	}
	r.Var = func(n string) string { return vars[n] }
	return &ownReq{req: r, vars: vars}
}
