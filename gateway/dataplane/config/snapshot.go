// Package config keeps a data plane node's view of one group's APISIX
// configuration in etcd: it loads the whole prefix, watches it from the next
// revision, and applies each batch of changes to an immutable Snapshot that
// is swapped atomically. Only the entries a change touches are rebuilt.
package config

import (
	"net/netip"
	"sort"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/cowmap"
	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/router"
)

// Route is a route compiled with its service, plugin config and upstream.
type Route struct {
	ID        string
	Name      string
	ServiceID string
	Plugins   *plugin.Set
	// Reject is set when the route cannot run at all: 404 (its service is
	// missing) or 503 (its plugin config is missing), answered before any
	// plugin runs, as APISIX does.
	Reject int
	// Upstream is nil when the route cannot be proxied; Status then tells
	// what APISIX answers after the plugins ran: 503 (no upstream
	// configuration), 502 (upstream_id not found).
	Upstream *balancer.Upstream
	Status   int
	Timeouts balancer.Timeouts
	// WebSocket proxies Upgrade: websocket requests (enable_websocket).
	WebSocket bool
}

// StreamRoute is a compiled stream route.
type StreamRoute struct {
	ID         string
	ServerPort int
	ServerAddr string
	RemoteAddr *netip.Prefix
	Upstream   *balancer.Upstream
}

type serviceEntry struct {
	raw      *apisix.Service
	upstream *balancer.Upstream // inline upstream, compiled
}

// consumerEntry keeps a consumer compiled, not its decoded value: at
// 100,000 consumers the decoded values (a plugins map and a labels map
// each) were ~50 MB of live heap for the garbage collector to mark.
type consumerEntry struct {
	consumer *plugin.Consumer
	key      string // decrypted inline key-auth key, "" when none
	hasKey   bool
}

// credEntry is one credential of a consumer (APISIX 3.10+).
type credEntry struct {
	id       string
	key      string
	hasKey   bool
	consumer *plugin.Consumer // built when its consumer exists
}

// credList is a consumer's credentials, sorted by id. Most consumers have
// one: a slice each instead of a map each (and no decoded values) took
// ~140 MB of live heap off a node with 100,000 of them.
type credList []credEntry

type keyOwner struct {
	id string // username, or username/credentials/id
	c  *plugin.Consumer
}

// Snapshot is one consistent view of the configuration. It is never
// modified once published.
type Snapshot struct {
	Rev    int64
	Router *router.Router[*Route]

	routes        cowmap.Map[*apisix.Route]
	bigRoutes     cowmap.Map[*bigRoute] // the big routes as last read, by id
	services      cowmap.Map[*serviceEntry]
	upstreams     cowmap.Map[*balancer.Upstream]
	pluginConfigs cowmap.Map[*apisix.PluginConfig]
	consumers     cowmap.Map[*consumerEntry]
	creds         cowmap.Map[credList] // username -> credentials
	keys          cowmap.Map[[]keyOwner]
	streamRaw     cowmap.Map[*apisix.StreamRoute]
	streams       cowmap.Map[*StreamRoute]
}

func emptySnapshot() *Snapshot { return &Snapshot{Router: router.New[*Route]()} }

// ConsumerByKey finds the consumer owning a key-auth key; when several
// share a key the last in key order wins, as with APISIX's last loaded.
func (s *Snapshot) ConsumerByKey(key []byte) *plugin.Consumer {
	owners, ok := s.keys.GetBytes(key)
	if !ok || len(owners) == 0 {
		return nil
	}
	return owners[len(owners)-1].c
}

// ConsumerByName finds a consumer by username.
func (s *Snapshot) ConsumerByName(name string) *plugin.Consumer {
	e, ok := s.consumers.Get(name)
	if !ok {
		return nil
	}
	return e.consumer
}

// Counts of what the snapshot holds.
func (s *Snapshot) Counts() map[string]int {
	return map[string]int{
		"routes": s.Router.Len(), "services": s.services.Len(), "upstreams": s.upstreams.Len(),
		"plugin_configs": s.pluginConfigs.Len(), "consumers": s.consumers.Len(), "keys": s.keys.Len(),
		"stream_routes": s.streams.Len(),
	}
}

// StreamRoutes lists the compiled stream routes, sorted by ID.
func (s *Snapshot) StreamRoutes() []*StreamRoute {
	var out []*StreamRoute
	s.streams.Range(func(_ string, r *StreamRoute) bool {
		out = append(out, r)
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Route returns a compiled route by ID.
func (s *Snapshot) Route(id string) (*Route, bool) {
	rt, ok := s.Router.Get(id)
	if !ok {
		return nil, false
	}
	return rt.Value, true
}

// Empty is a snapshot with nothing in it.
func Empty() *Snapshot { return emptySnapshot() }
