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

// decodeRoute decodes a route as decode does. A big route (one whitelisting
// many consumers) has its plugins split off by jsonscan, which validates
// them, and only the rest goes through encoding/json; anything jsonscan
// does not handle falls back to decode, so the result is the same.
func decodeRoute(v []byte, r *apisix.Route) error {
	if len(v) >= bigValue && decodeRouteFast(v, r) {
		return nil
	}
	*r = apisix.Route{}
	return decode(v, r)
}

func decodeRouteFast(v []byte, r *apisix.Route) bool {
	s := jsonscan.Scanner{B: v}
	members, ok := s.Object()
	if !ok || !s.End() {
		return false
	}
	var plugins *jsonscan.Member
	for i, m := range members {
		if m.Key == "plugins" {
			plugins = &members[i]
		} else if strings.EqualFold(m.Key, "plugins") {
			return false // encoding/json matches field names case-insensitively
		}
	}
	if plugins == nil || v[plugins.Start] != '{' {
		return false
	}
	ps := jsonscan.Scanner{B: v[:plugins.End], I: plugins.Start}
	named, ok := ps.Object()
	if !ok {
		return false
	}
	// The route without its plugins' values, for encoding/json.
	rest := make([]byte, 0, len(v)-(plugins.End-plugins.Start)+2)
	rest = append(append(append(rest, v[:plugins.Start]...), "{}"...), v[plugins.End:]...)
	if json.Unmarshal(rest, r) != nil {
		return false
	}
	r.Plugins = make(apisix.Plugins, len(named))
	for _, m := range named {
		r.Plugins[m.Key] = append(json.RawMessage(nil), v[m.Start:m.End]...)
	}
	return true
}
