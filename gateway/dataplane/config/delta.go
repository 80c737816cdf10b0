package config

import (
	"bytes"
	"slices"

	"devportal/gateway/dataplane/internal/jsonscan"
)

// next reads v, the route's new value, as a change of n's value inside one
// plugin's value (and maybe in members after the plugins, such as
// update_time): what approving or revoking a subscription writes to a
// route whitelisting many consumers. Only the changed bytes are validated,
// the rest being n's, which were, so the route is the one decodeRouteFast
// reads from v at a fraction of the cost. nil when v is not such a change:
// the caller then decodes v whole.
func (n *bigRoute) next(v []byte) *bigRoute {
	old := n.v
	p, q := jsonscan.Common(old, v)
	pm := n.members[n.plugins]
	r := *n.route
	out := &bigRoute{v: n.v, route: &r, members: n.members, plugins: n.plugins, named: n.named}
	if p == len(old) && p == len(v) {
		return out
	}
	if p <= pm.Start {
		return nil // a change before the plugins' values
	}
	d := len(v) - len(old)
	out.members = slices.Clone(n.members)
	tail := out.members[n.plugins+1:]
	// The unchanged prefix and suffix of the plugins' values, and where
	// v's ends.
	ip, iq, end := p-pm.Start, q-(len(old)-pm.End), pm.End+d
	rest := len(old)-q >= pm.End // members after the plugins changed
	if rest {
		var ok bool
		if end, ok = n.tail(v, q, tail); !ok {
			return nil
		}
		// The prefix is known; what follows it differs, so Common only
		// reads back from the ends.
		ip = min(p, end, pm.End) - pm.Start
		_, iq = jsonscan.Common(old[pm.Start+ip:pm.End], v[pm.Start+ip:end])
	} else {
		for i := range tail {
			tail[i].Start += d
			tail[i].End += d
		}
	}
	out.members[n.plugins].End = end
	var ok bool
	if out.named, ok = n.changed(v, pm.Start+ip, pm.End-iq, end-pm.End); !ok {
		return nil
	}
	if rest {
		nr, ok := decodeRest(v, pm.Start, end)
		if !ok {
			return nil
		}
		r = *nr
	}
	out.v = v
	r.Plugins = out.pluginMap()
	return out
}

// tail finds in v the members after the plugins, v's last q bytes being
// n's value's: it fills in their bounds in tail (n's, copied) and returns
// where v's plugins value ends. The first one's key K is looked for
// backwards as `,"K":` from the unchanged end (a quote cannot be inside a
// string unescaped, so a match is a key), and every member from there must
// read as one of n's did, in order, up to the end of the object.
func (n *bigRoute) tail(v []byte, q int, tail []jsonscan.Member) (int, bool) {
	if len(tail) == 0 {
		return 0, false
	}
	pm := n.members[n.plugins]
	key := `,"` + tail[0].Key + `":`
	if string(n.v[pm.End:tail[0].Start]) != key {
		return 0, false // not as encoding/json writes it
	}
	end := bytes.LastIndex(v[pm.Start:min(len(v), len(v)-q+len(key))], []byte(key))
	if end < 0 {
		return 0, false
	}
	end += pm.Start
	s := jsonscan.Scanner{B: v, I: end}
	for i := range tail {
		if !s.Byte(',') {
			return 0, false
		}
		ks, ke, ok := s.String()
		if !ok || string(v[ks:ke]) != tail[i].Key || !s.Byte(':') {
			return 0, false
		}
		if tail[i].Start, tail[i].End, ok = s.Value(); !ok {
			return 0, false
		}
	}
	return end, s.Byte('}') && s.End()
}

// changed is the plugins of v when the bytes of n's value in [from, to),
// and only those among its plugins' values, changed into ones making the
// plugins' values d bytes longer: they must lie in one plugin's value, and
// its new value must be valid.
func (n *bigRoute) changed(v []byte, from, to, d int) ([]jsonscan.Member, bool) {
	if from >= to && d == 0 {
		return n.named, true
	}
	for i, m := range n.named {
		if m.Start > from || to > m.End {
			continue
		}
		if !validChange(n.v[m.Start:m.End], v[m.Start:m.End+d], from-m.Start, m.End-to) {
			return nil, false
		}
		out := slices.Clone(n.named)
		out[i].End += d
		for j := i + 1; j < len(out); j++ {
			out[j].Start += d
			out[j].End += d
		}
		return out, true
	}
	return nil, false
}

// validChange tells whether new, a plugin's value that differs from old,
// one jsonscan accepted, only after their first p and before their last q
// bytes, is one jsonscan accepts too: from the changed names alone when
// they are in an array of strings (a whitelist), else read whole.
func validChange(old, new []byte, p, q int) bool {
	if _, ok := jsonscan.StringsSplice(old, new, 0, p, q); ok {
		return true
	}
	s := jsonscan.Scanner{B: new}
	a, e, ok := s.Value()
	return ok && a == 0 && e == len(new)
}
