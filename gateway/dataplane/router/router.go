// Package router matches HTTP requests to routes the way APISIX's default
// radixtree_host_uri router does: routes with hosts first (exact host, then
// wildcard hosts from the longest suffix), then routes without hosts; inside
// each, the exact path first, then prefix paths ("/foo/*") from the longest,
// and among routes on the same path the highest priority first. The router
// is immutable: Update returns a new router and copies only the parts a
// change touches.
package router

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	"devportal/gateway/dataplane/cowmap"
)

// Route is one route as the router sees it.
type Route[T any] struct {
	ID          string
	Paths       []string // "/exact", "/prefix/*", "/prefix*"
	Hosts       []string // "api.example.com", "*.example.com"; empty: any host
	Methods     []string // empty: any method
	Priority    int
	RemoteAddrs []netip.Prefix // empty: any client
	Vars        *Vars          // nil: no condition
	Value       T
}

// Request is what a route is matched against.
type Request struct {
	Method     string
	Host       string // lower case, without port
	Path       string
	RemoteAddr netip.Addr
	// Var resolves an APISIX variable name for route vars; may be nil when no
	// route has vars.
	Var func(name string) string
}

// Router is an immutable route table.
type Router[T any] struct {
	byID      cowmap.Map[*Route[T]]
	hostExact cowmap.Map[*table[T]]
	hostWild  []wildHost[T] // sorted by suffix length, longest first
	any       *table[T]
}

type wildHost[T any] struct {
	suffix string // ".example.com" for "*.example.com", "foo.com" for "*foo.com"
	t      *table[T]
}

// table holds the routes of one host bucket.
type table[T any] struct {
	exact  cowmap.Map[[]*Route[T]]
	prefix cowmap.Map[[]*Route[T]]
	lens   []int       // distinct prefix lengths, longest first
	lenRef map[int]int // how many prefixes have each length
	n      int         // route paths held
}

// New returns an empty router.
func New[T any]() *Router[T] { return &Router[T]{any: &table[T]{}} }

// Len is the number of routes.
func (r *Router[T]) Len() int { return r.byID.Len() }

// Get returns the route with id.
func (r *Router[T]) Get(id string) (*Route[T], bool) { return r.byID.Get(id) }

// Match returns the route for req, or nil.
func (r *Router[T]) Match(req *Request) *Route[T] {
	if req.Host != "" {
		if t, ok := r.hostExact.Get(req.Host); ok {
			if rt := t.match(req); rt != nil {
				return rt
			}
		}
		for i := range r.hostWild {
			w := &r.hostWild[i]
			if strings.HasSuffix(req.Host, w.suffix) {
				if rt := w.t.match(req); rt != nil {
					return rt
				}
			}
		}
	}
	return r.any.match(req)
}

func (t *table[T]) match(req *Request) *Route[T] {
	if t.n == 0 {
		return nil
	}
	if list, ok := t.exact.Get(req.Path); ok {
		if rt := pick(list, req); rt != nil {
			return rt
		}
	}
	for _, l := range t.lens {
		if l > len(req.Path) {
			continue
		}
		if list, ok := t.prefix.Get(req.Path[:l]); ok {
			if rt := pick(list, req); rt != nil {
				return rt
			}
		}
	}
	return nil
}

func pick[T any](list []*Route[T], req *Request) *Route[T] {
	for _, rt := range list {
		if rt.accepts(req) {
			return rt
		}
	}
	return nil
}

func (rt *Route[T]) accepts(req *Request) bool {
	if len(rt.Methods) > 0 {
		ok := false
		for _, m := range rt.Methods {
			if m == req.Method {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(rt.RemoteAddrs) > 0 {
		ok := false
		for _, p := range rt.RemoteAddrs {
			if p.Contains(req.RemoteAddr.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if rt.Vars != nil && !rt.Vars.Match(req.Var) {
		return false
	}
	return true
}

// Update returns a router without the routes whose IDs are in remove and
// with the routes in add (replacing any route of the same ID). Only the
// host buckets and path lists the change touches are copied.
func (r *Router[T]) Update(remove []string, add []*Route[T]) *Router[T] {
	b := &builder[T]{
		byID:      r.byID.Builder(),
		hostExact: r.hostExact.Builder(),
		hostWild:  r.hostWild,
		any:       r.any,
		tables:    map[*table[T]]*tableBuilder[T]{},
	}
	for _, id := range remove {
		b.remove(id)
	}
	for _, rt := range add {
		b.remove(rt.ID)
		b.add(rt)
	}
	return b.build()
}

type builder[T any] struct {
	byID      *cowmap.Builder[*Route[T]]
	hostExact *cowmap.Builder[*table[T]]
	hostWild  []wildHost[T]
	wildCopy  bool
	edited    []string // exact hosts whose tables changed
	any       *table[T]
	tables    map[*table[T]]*tableBuilder[T] // old or new table -> its builder
}

type tableBuilder[T any] struct {
	exact  *cowmap.Builder[[]*Route[T]]
	prefix *cowmap.Builder[[]*Route[T]]
	lenRef map[int]int
	n      int
	out    *table[T]
}

func (b *builder[T]) edit(t *table[T]) *tableBuilder[T] {
	if tb, ok := b.tables[t]; ok {
		return tb
	}
	tb := &tableBuilder[T]{
		exact:  t.exact.Builder(),
		prefix: t.prefix.Builder(),
		lenRef: make(map[int]int, len(t.lenRef)),
		n:      t.n,
		out:    &table[T]{},
	}
	for k, v := range t.lenRef {
		tb.lenRef[k] = v
	}
	b.tables[t] = tb
	b.tables[tb.out] = tb
	return tb
}

// bucket returns the builder of the table for host, creating the table.
func (b *builder[T]) bucket(host string, create bool) *tableBuilder[T] {
	switch {
	case host == "":
		tb := b.edit(b.any)
		b.any = tb.out
		return tb
	case strings.HasPrefix(host, "*"):
		// APISIX matches the reversed host as a radixtree prefix path:
		// "*foo.com" is a wildcard on the suffix "foo.com" too, and the
		// suffix itself matches.
		suffix := host[1:]
		for i := range b.hostWild {
			if b.hostWild[i].suffix == suffix {
				tb := b.edit(b.hostWild[i].t)
				b.copyWild()
				b.hostWild[i].t = tb.out
				return tb
			}
		}
		if !create {
			return nil
		}
		b.copyWild()
		t := &table[T]{}
		b.hostWild = append(b.hostWild, wildHost[T]{suffix: suffix, t: t})
		sort.SliceStable(b.hostWild, func(i, j int) bool { return len(b.hostWild[i].suffix) > len(b.hostWild[j].suffix) })
		tb := b.edit(t)
		for i := range b.hostWild {
			if b.hostWild[i].t == t {
				b.hostWild[i].t = tb.out
			}
		}
		return tb
	default:
		t, ok := b.hostExact.Get(host)
		if !ok {
			if !create {
				return nil
			}
			t = &table[T]{}
		}
		tb := b.edit(t)
		b.hostExact.Set(host, tb.out)
		b.edited = append(b.edited, host)
		return tb
	}
}

func (b *builder[T]) copyWild() {
	if !b.wildCopy {
		b.hostWild = append([]wildHost[T](nil), b.hostWild...)
		b.wildCopy = true
	}
}

// hostsOf lists the buckets of a route, each once: a host given twice
// would put the route twice in one table and leave a count behind when it
// is removed.
func hostsOf[T any](rt *Route[T]) []string {
	if len(rt.Hosts) == 0 {
		return []string{""}
	}
	for i, h := range rt.Hosts {
		if slices.Contains(rt.Hosts[:i], h) {
			out := make([]string, 0, len(rt.Hosts))
			for _, h := range rt.Hosts {
				if !slices.Contains(out, h) {
					out = append(out, h)
				}
			}
			return out
		}
	}
	return rt.Hosts
}

func (b *builder[T]) remove(id string) {
	old, ok := b.byID.Get(id)
	if !ok {
		return
	}
	b.byID.Delete(id)
	for _, h := range hostsOf(old) {
		if tb := b.bucket(h, false); tb != nil {
			tb.remove(old)
		}
	}
}

func (b *builder[T]) add(rt *Route[T]) {
	b.byID.Set(rt.ID, rt)
	for _, h := range hostsOf(rt) {
		b.bucket(h, true).add(rt)
	}
}

// splitPath tells whether p is a prefix path and returns the exact path or prefix.
func splitPath(p string) (string, bool) {
	if strings.HasSuffix(p, "*") {
		return p[:len(p)-1], true
	}
	return p, false
}

func (tb *tableBuilder[T]) add(rt *Route[T]) {
	seen := map[string]bool{}
	for _, p := range rt.Paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		key, isPrefix := splitPath(p)
		m := tb.exact
		if isPrefix {
			m = tb.prefix
			tb.lenRef[len(key)]++
		}
		old, _ := m.Get(key)
		list := make([]*Route[T], 0, len(old)+1)
		list = append(list, old...)
		list = append(list, rt)
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Priority != list[j].Priority {
				return list[i].Priority > list[j].Priority
			}
			return list[i].ID < list[j].ID
		})
		m.Set(key, list)
		tb.n++
	}
}

func (tb *tableBuilder[T]) remove(rt *Route[T]) {
	seen := map[string]bool{}
	for _, p := range rt.Paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		key, isPrefix := splitPath(p)
		m := tb.exact
		if isPrefix {
			m = tb.prefix
		}
		old, ok := m.Get(key)
		if !ok {
			continue
		}
		list := make([]*Route[T], 0, len(old))
		for _, x := range old {
			if x.ID != rt.ID {
				list = append(list, x)
			}
		}
		if len(list) == len(old) {
			continue
		}
		if isPrefix {
			if tb.lenRef[len(key)]--; tb.lenRef[len(key)] <= 0 {
				delete(tb.lenRef, len(key))
			}
		}
		if len(list) == 0 {
			m.Delete(key)
		} else {
			m.Set(key, list)
		}
		tb.n--
	}
}

func (b *builder[T]) build() *Router[T] {
	done := map[*tableBuilder[T]]bool{}
	for _, tb := range b.tables {
		if done[tb] {
			continue
		}
		done[tb] = true
		t := tb.out
		t.exact = tb.exact.Map()
		t.prefix = tb.prefix.Map()
		t.lenRef = tb.lenRef
		t.n = tb.n
		t.lens = make([]int, 0, len(tb.lenRef))
		for l := range tb.lenRef {
			t.lens = append(t.lens, l)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(t.lens)))
	}
	r := &Router[T]{byID: b.byID.Map(), hostExact: b.hostExact.Map(), any: b.any}
	// Drop empty host buckets so a removed host costs nothing.
	for _, w := range b.hostWild {
		if w.t.n > 0 {
			r.hostWild = append(r.hostWild, w)
		}
	}
	for _, h := range b.edited {
		if t, ok := r.hostExact.Get(h); ok && t.n == 0 {
			r.hostExact = r.hostExact.Delete(h)
		}
	}
	return r
}
