package config

import (
	"encoding/json"
	"strings"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/internal/jsonscan"
)

// bigValue is the size from which a route is decoded with jsonscan: below
// it encoding/json is fast enough.
const bigValue = 64 << 10

// bigRoute is a big route as the fast path read it: the event's value, kept
// as it came (see Event; the route's plugin values are slices of it), and
// where each top-level member and each plugin's value lies in it. The
// route's next value is read as a change against it (next, in delta.go).
type bigRoute struct {
	v       []byte
	route   *apisix.Route
	members []jsonscan.Member
	plugins int               // the index of "plugins" in members
	named   []jsonscan.Member // the plugins
}

// decodeRoute decodes a route as decode does. A big route (one whitelisting
// many consumers) has its plugins split off by jsonscan, which validates
// them, and only the rest goes through encoding/json; anything jsonscan
// does not handle falls back to decode, so the result is the same. old is
// the route's previous value when that was read so (nil otherwise), and
// the big route returned is the one to pass with the next value.
func decodeRoute(v []byte, old *bigRoute) (*apisix.Route, *bigRoute, error) {
	if len(v) >= bigValue {
		if old != nil {
			if n := old.next(v); n != nil {
				return n.route, n, nil
			}
		}
		if n := decodeRouteFast(v); n != nil {
			return n.route, n, nil
		}
	}
	r := &apisix.Route{}
	return r, nil, decode(v, r)
}

func decodeRouteFast(v []byte) *bigRoute {
	s := jsonscan.Scanner{B: v}
	members, ok := s.Object()
	if !ok || !s.End() {
		return nil
	}
	pi := -1
	for i, m := range members {
		if m.Key == "plugins" {
			pi = i
		} else if strings.EqualFold(m.Key, "plugins") {
			return nil // encoding/json matches field names case-insensitively
		}
	}
	if pi < 0 || v[members[pi].Start] != '{' {
		return nil
	}
	ps := jsonscan.Scanner{B: v[:members[pi].End], I: members[pi].Start}
	named, ok := ps.Object()
	if !ok {
		return nil
	}
	r, ok := decodeRest(v, members[pi].Start, members[pi].End)
	if !ok {
		return nil
	}
	n := &bigRoute{v: v, route: r, members: members, plugins: pi, named: named}
	r.Plugins = n.pluginMap()
	return n
}

// decodeRest decodes with encoding/json the route v but its plugins' values,
// which lie in v[start:end].
func decodeRest(v []byte, start, end int) (*apisix.Route, bool) {
	rest := make([]byte, 0, len(v)-(end-start)+2)
	rest = append(append(append(rest, v[:start]...), "{}"...), v[end:]...)
	r := &apisix.Route{}
	if json.Unmarshal(rest, r) != nil {
		return nil, false
	}
	return r, true
}

// pluginMap is the route's plugins, their values slices of n.v.
func (n *bigRoute) pluginMap() apisix.Plugins {
	out := make(apisix.Plugins, len(n.named))
	for _, m := range n.named {
		out[m.Key] = json.RawMessage(n.v[m.Start:m.End:m.End])
	}
	return out
}
