// Package plugin implements the APISIX plugins a data plane node enforces:
// key-auth, consumer-restriction, limit-count and proxy-rewrite, with
// APISIX's attributes, defaults, status codes, bodies and headers. A plugin
// is compiled once from its JSON when the configuration changes and run on
// every request against a Ctx.
package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/metrics"
)

// ErrUnknown says a plugin is not one this node knows; APISIX rejects such
// a configuration.
var ErrUnknown = errors.New("plugin: unknown plugin")

// Consumer is an authenticated identity as the plugins see it.
type Consumer struct {
	Username     string
	CredentialID string // set when a credential matched
	CustomID     string // labels.custom_id
	GroupID      string
	// Plugins are the consumer's own plugins (auth plugins excluded); they
	// take precedence over the route's once the consumer is known.
	Plugins *Set
	// Stats is where the metrics remember this consumer's last series.
	Stats metrics.Slot

	memo consumerMemo
}

// WithCredential is c as matched by its credential id: the same
// configuration, with memory of its own.
func (c *Consumer) WithCredential(id string) *Consumer {
	return &Consumer{Username: c.Username, CredentialID: id, CustomID: c.CustomID, GroupID: c.GroupID, Plugins: c.Plugins}
}

// consumerMemo is what a consumer remembers of the tables of every consumer
// its requests are looked up in (whitelists, rate limit windows): with
// 100,000 consumers each such lookup is a few cache misses, and a
// consumer's next request usually asks the same. Each answer records what
// it answers, so an outdated one is only a miss; the consumer's object is
// rebuilt, memory empty, when its configuration changes.
type consumerMemo struct {
	inSet  atomic.Uint64          // nameSet.hasUser: set generation << 1 | member
	window atomic.Pointer[window] // Counters.incoming: the last window taken
}

// Directory is where auth plugins look consumers up: the current snapshot.
type Directory interface {
	// ConsumerByKey finds the consumer owning a key-auth key.
	ConsumerByKey(key []byte) *Consumer
	// ConsumerByName finds a consumer by username (anonymous_consumer).
	ConsumerByName(name string) *Consumer
}

// Ctx carries one request through the plugins.
type Ctx struct {
	Req        *fasthttp.Request
	RemoteAddr string
	Host       string // request host, lower case, without port
	Path       string // normalized request path (APISIX's $uri)
	RouteID    string
	ServiceID  string
	Dir        Directory
	Consumer   *Consumer

	// Set by proxy-rewrite.
	UpstreamURI  []byte // path and query to send upstream; nil keeps the request's
	UpstreamHost string // Host header to send upstream; "" leaves it to the upstream's pass_host
	captures     []string

	// Response headers the plugins add (rate limit headers).
	RespHeaders []Header
	// AddedHopHeader is set by a plugin that added a hop-by-hop header to
	// the request, which forwarding must then look for and drop; otherwise
	// it looks only at the headers the client sent.
	AddedHopHeader bool

	// The request as the client sent it, kept for the access log.
	LogMethod, LogURI string
}

// HopHeaders are not forwarded, either way (RFC 9110 7.6.1).
var HopHeaders = [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"}

// IsHopHeader tells whether name, in any case, is one of HopHeaders. It
// runs on every header of every request, so it rejects by length and first
// letter before comparing.
func IsHopHeader(name []byte) bool {
	var a, b string
	switch len(name) {
	case 2:
		a = "TE"
	case 7:
		a, b = "Trailer", "Upgrade"
	case 10:
		a, b = "Connection", "Keep-Alive"
	case 16:
		a = "Proxy-Connection"
	default:
		return false
	}
	first := name[0] &^ 0x20 // upper case, for letters
	return (first == a[0] && strings.EqualFold(string(name), a)) ||
		(b != "" && first == b[0] && strings.EqualFold(string(name), b))
}

// SentHeader tells whether raw, a request's header block as it arrived
// (fasthttp's RawHeaders), has a header whose name is. One scan for several
// names is cheaper than a fasthttp Del for each (which normalizes the name
// and searches every header); for one name it is not.
func SentHeader(raw []byte, is func(name []byte) bool) bool {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if i := bytes.IndexByte(line, ':'); i > 0 && is(bytes.TrimRight(line[:i], " \t")) {
			return true
		}
	}
	return false
}

// Header is one response header.
type Header struct{ Key, Value string }

// Reset clears c for reuse.
func (c *Ctx) Reset() {
	*c = Ctx{RespHeaders: c.RespHeaders[:0], UpstreamURI: c.UpstreamURI[:0]}
	c.UpstreamURI = nil
}

// Reply is a response a plugin ends the request with.
type Reply struct {
	Status      int
	Body        []byte
	ContentType string
	Headers     []Header
}

// Set is the compiled plugins of a route (merged with its plugin config and
// service) or of a consumer. A nil field means the plugin is off.
type Set struct {
	KeyAuth      *KeyAuth
	Restriction  *Restriction
	LimitCount   *LimitCount
	ProxyRewrite *ProxyRewrite
	// Names of the plugins set, sorted, for logs and metrics.
	Names []string
}

// Empty tells whether no plugin is set.
func (s *Set) Empty() bool {
	return s == nil || (s.KeyAuth == nil && s.Restriction == nil && s.LimitCount == nil && s.ProxyRewrite == nil)
}

// noop are the APISIX plugins this node accepts and has nothing to do for
// (apisix.ObservingPlugins: they observe traffic without changing it). Any
// other plugin it does not implement makes the route be skipped.
var noop = apisix.ObservingPlugins

// AuthPlugins are the plugins whose consumer-side config is a credential,
// not a plugin to run.
var AuthPlugins = map[string]bool{"key-auth": true, "basic-auth": true, "jwt-auth": true, "hmac-auth": true, "ldap-auth": true}

// Scope names the owner of a plugin set; limit-count counters are kept per
// scope (APISIX keys them by the route or service they belong to).
type Scope string

// Compile builds a Set from a plugins object; an unknown plugin or a
// configuration APISIX's schema rejects is an error. Plugins marked
// "_meta": {"disable": true} are left off.
// The configurations are kept, not copied: they must not be modified
// afterwards (the config package's never are).
func Compile(plugins map[string]json.RawMessage, scope Scope) (*Set, error) {
	return CompileScoped(plugins, nil, scope)
}

// CompileScoped is Compile where each plugin may come from a different
// owner (scopes[name]; def when absent): limit-count counters belong to the
// resource the plugin is configured on, so a limit set on a service or a
// plugin config is shared by the routes using it, as in APISIX.
func CompileScoped(plugins map[string]json.RawMessage, scopes map[string]Scope, def Scope) (*Set, error) {
	return CompileScopedFrom(plugins, scopes, def, nil)
}

// CompileScopedFrom is CompileScoped for plugins that replace prev (nil
// when none): what prev compiled is reused where it can be, so that a
// whitelist of 100,000 names changed by one is not rebuilt whole.
func CompileScopedFrom(plugins map[string]json.RawMessage, scopes map[string]Scope, def Scope, prev *Set) (*Set, error) {
	var prevRestriction *Restriction
	if prev != nil {
		prevRestriction = prev.Restriction
	}
	s := &Set{}
	for name, raw := range plugins {
		scope := def
		if sc, ok := scopes[name]; ok {
			scope = sc
		}
		if name == "consumer-restriction" {
			// A change of prev's whitelist: raw has no "_meta" (prev's
			// configuration had none, decodeFast reads no such key).
			if r := prevRestriction.splice(raw); r != nil {
				s.Restriction = r
				s.Names = append(s.Names, name)
				continue
			}
		}
		if disabled(raw) {
			continue
		}
		var err error
		switch name {
		case "key-auth":
			s.KeyAuth, err = NewKeyAuth(raw)
		case "consumer-restriction":
			s.Restriction, err = newRestriction(raw, prevRestriction)
		case "limit-count":
			s.LimitCount, err = NewLimitCount(raw, scope)
		case "proxy-rewrite":
			s.ProxyRewrite, err = NewProxyRewrite(raw)
		default:
			if !noop[name] {
				return nil, fmt.Errorf("%w %q", ErrUnknown, name)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", name, err)
		}
		s.Names = append(s.Names, name)
	}
	sort.Strings(s.Names)
	return s, nil
}

// CompileConsumer builds a consumer's own plugins: auth plugins there are
// credentials and are skipped.
func CompileConsumer(plugins map[string]json.RawMessage, scope Scope) (*Set, error) {
	others := false
	for name := range plugins {
		if !AuthPlugins[name] {
			others = true
			break
		}
	}
	if !others {
		return nil, nil
	}
	rest := make(map[string]json.RawMessage, len(plugins))
	for name, raw := range plugins {
		if !AuthPlugins[name] {
			rest[name] = raw
		}
	}
	if len(rest) == 0 {
		return nil, nil
	}
	return Compile(rest, scope)
}

func disabled(raw json.RawMessage) bool {
	if !mayDisable(raw) {
		return false
	}
	var m struct {
		Meta *struct {
			Disable bool `json:"disable"`
		} `json:"_meta"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Meta == nil {
		return false
	}
	return m.Meta.Disable
}

// Merge returns the plugins of a route as APISIX runs them: the service's,
// overridden by the route's plugin config, overridden by the route's own
// (the route wins over its plugin config, and both over the service).
func Merge(service, pluginConfig, route map[string]json.RawMessage) map[string]json.RawMessage {
	out, _ := MergeScoped(service, pluginConfig, route, "", "", "")
	return out
}

// MergeScoped is Merge that also tells which owner each plugin came from.
func MergeScoped(service, pluginConfig, route map[string]json.RawMessage, svcScope, pcScope, routeScope Scope) (map[string]json.RawMessage, map[string]Scope) {
	out := make(map[string]json.RawMessage, len(service)+len(pluginConfig)+len(route))
	scopes := make(map[string]Scope, len(out))
	for k, v := range service {
		out[k], scopes[k] = v, svcScope
	}
	for k, v := range pluginConfig {
		if _, onRoute := route[k]; !onRoute {
			out[k], scopes[k] = v, pcScope
		}
	}
	for k, v := range route {
		out[k], scopes[k] = v, routeScope
	}
	return out, scopes
}

// Run runs the plugins on a request in APISIX's phase and priority order:
// rewrite (key-auth 2500, proxy-rewrite 1008), then the consumer's plugins
// merged over the route's, then access (consumer-restriction 2400,
// limit-count 1002). A non-nil Reply ends the request.
func (s *Set) Run(c *Ctx) *Reply {
	if s == nil {
		return nil
	}
	if s.KeyAuth != nil {
		if r := s.KeyAuth.Rewrite(c); r != nil {
			return r
		}
	}
	if s.ProxyRewrite != nil {
		if r := s.ProxyRewrite.Rewrite(c); r != nil {
			return r
		}
	}
	restriction, limit := s.Restriction, s.LimitCount
	if c.Consumer != nil && c.Consumer.Plugins != nil {
		cp := c.Consumer.Plugins
		// A consumer plugin the route does not have runs its rewrite phase
		// after the consumer is known, as APISIX re-runs it.
		if cp.ProxyRewrite != nil && s.ProxyRewrite == nil {
			if r := cp.ProxyRewrite.Rewrite(c); r != nil {
				return r
			}
		}
		if cp.Restriction != nil {
			restriction = cp.Restriction
		}
		if cp.LimitCount != nil {
			limit = cp.LimitCount
		}
	}
	if restriction != nil {
		if r := restriction.Access(c); r != nil {
			return r
		}
	}
	if limit != nil {
		if r := limit.Access(c); r != nil {
			return r
		}
	}
	return nil
}
