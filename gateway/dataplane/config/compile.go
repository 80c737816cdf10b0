package config

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/balancer"
	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/router"
)

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true,
	"HEAD": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, "PURGE": true}

var hostPattern = regexp.MustCompile(`^\*?[0-9a-zA-Z-._\[\]:]+$`)

// checkRoute is the part of APISIX's route schema that decides matching.
func checkRoute(r *apisix.Route) error {
	if r.URI == "" && len(r.URIs) == 0 {
		return fmt.Errorf("route needs uri or uris")
	}
	if r.URI != "" && len(r.URIs) > 0 {
		return fmt.Errorf("route has both uri and uris")
	}
	for _, p := range paths(r) {
		if p == "" || (p[0] != '/' && p != "*") {
			return fmt.Errorf("bad uri %q", p)
		}
	}
	if r.Host != "" && len(r.Hosts) > 0 {
		return fmt.Errorf("route has both host and hosts")
	}
	for _, h := range hostsOf(r.Host, r.Hosts) {
		if !hostPattern.MatchString(h) {
			return fmt.Errorf("bad host %q", h)
		}
	}
	for _, m := range r.Methods {
		if !methods[m] {
			return fmt.Errorf("bad method %q", m)
		}
	}
	if r.Status != nil && *r.Status != 0 && *r.Status != 1 {
		return fmt.Errorf("status must be 0 or 1")
	}
	return nil
}

func paths(r *apisix.Route) []string {
	if len(r.URIs) > 0 {
		return r.URIs
	}
	return []string{r.URI}
}

func hostsOf(host string, hosts []string) []string {
	if len(hosts) > 0 {
		return hosts
	}
	if host != "" {
		return []string{host}
	}
	return nil
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

func remoteAddrs(one string, many []string) ([]netip.Prefix, error) {
	list := many
	if len(list) == 0 && one != "" {
		list = []string{one}
	}
	var out []netip.Prefix
	for _, s := range list {
		p, err := router.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// compileRoute resolves a route against the snapshot being built; the error
// says the route is skipped (logged by the caller).
func (b *batch) compileRoute(r *apisix.Route) (*router.Route[*Route], error) {
	if err := checkRoute(r); err != nil {
		return nil, err
	}
	rs, err := remoteAddrs(r.RemoteAddr, r.RemoteAddrs)
	if err != nil {
		return nil, err
	}
	vars, err := router.ParseVars(r.Vars)
	if err != nil {
		return nil, err
	}
	out := &Route{ID: r.ID, Name: r.Name, ServiceID: r.ServiceID, Timeouts: balancer.DefaultTimeouts}
	hosts := hostsOf(r.Host, r.Hosts)

	var svc *serviceEntry
	if r.ServiceID != "" {
		svc, _ = b.services.Get(r.ServiceID)
		if svc == nil {
			out.Reject = 404
		} else if len(hosts) == 0 {
			hosts = svc.raw.Hosts
		}
	}
	var pcPlugins map[string]json.RawMessage
	if r.PluginConfigID != "" {
		pc, ok := b.pluginConfigs.Get(r.PluginConfigID)
		if !ok && out.Reject == 0 {
			out.Reject = 503
		} else if ok {
			pcPlugins = pc.Plugins
		}
	}
	var svcPlugins map[string]json.RawMessage
	if svc != nil {
		svcPlugins = svc.raw.Plugins
	}
	merged, scopes := plugin.MergeScoped(svcPlugins, pcPlugins, r.Plugins,
		plugin.Scope("service:"+r.ServiceID), plugin.Scope("plugin_config:"+r.PluginConfigID), plugin.Scope("route:"+r.ID))
	var prev *plugin.Set // what the route compiled to before, to reuse
	if old, ok := b.prev.Route(r.ID); ok {
		prev = old.Plugins
	}
	set, err := plugin.CompileScopedFrom(merged, scopes, plugin.Scope("route:"+r.ID), prev)
	if err != nil {
		return nil, err
	}
	out.Plugins = set

	if out.Reject == 0 {
		switch {
		case r.Upstream != nil:
			up, err := balancer.New(r.Upstream)
			if err != nil {
				return nil, fmt.Errorf("upstream: %w", err)
			}
			out.Upstream = up
		case r.UpstreamID != "":
			out.Upstream, _ = b.upstreams.Get(r.UpstreamID)
			if out.Upstream == nil {
				out.Status = 502
			}
		case svc != nil && svc.raw.UpstreamID != "":
			out.Upstream, _ = b.upstreams.Get(svc.raw.UpstreamID)
			if out.Upstream == nil {
				out.Status = 502
			}
		case svc != nil && svc.upstream != nil:
			out.Upstream = svc.upstream
		default:
			out.Status = 503
		}
	}
	if r.EnableWebsocket != nil {
		out.WebSocket = *r.EnableWebsocket
	} else if svc != nil && svc.raw.EnableWebsocket != nil {
		out.WebSocket = *svc.raw.EnableWebsocket
	}
	if out.Upstream != nil {
		out.Timeouts = out.Upstream.Timeouts
	}
	out.Timeouts = balancer.MergeTimeouts(out.Timeouts, r.Timeout)

	return &router.Route[*Route]{
		ID:          r.ID,
		Paths:       paths(r),
		Hosts:       lowerAll(hosts),
		Methods:     r.Methods,
		Priority:    r.Priority,
		RemoteAddrs: rs,
		Vars:        vars,
		Value:       out,
	}, nil
}

func (b *batch) compileStream(r *apisix.StreamRoute) (*StreamRoute, error) {
	if r.ServerPort <= 0 || r.ServerPort > 65535 {
		return nil, fmt.Errorf("stream route needs a server_port")
	}
	if len(r.Plugins) > 0 {
		return nil, fmt.Errorf("stream route plugins are not supported by this node")
	}
	out := &StreamRoute{ID: r.ID, ServerPort: r.ServerPort, ServerAddr: r.ServerAddr}
	if r.RemoteAddr != "" {
		p, err := router.ParsePrefix(r.RemoteAddr)
		if err != nil {
			return nil, err
		}
		out.RemoteAddr = &p
	}
	switch {
	case r.Upstream != nil:
		up, err := balancer.New(r.Upstream)
		if err != nil {
			return nil, err
		}
		out.Upstream = up
	case r.UpstreamID != "":
		out.Upstream, _ = b.upstreams.Get(r.UpstreamID)
	case r.ServiceID != "":
		if svc, ok := b.services.Get(r.ServiceID); ok {
			if svc.raw.UpstreamID != "" {
				out.Upstream, _ = b.upstreams.Get(svc.raw.UpstreamID)
			} else {
				out.Upstream = svc.upstream
			}
		}
	}
	return out, nil
}

// buildConsumer makes the plugin-side consumer of an entry.
func buildConsumer(username string, raw *apisix.Consumer, credID string) (*plugin.Consumer, error) {
	c := &plugin.Consumer{Username: username, CredentialID: credID, GroupID: raw.GroupID}
	if raw.Labels != nil {
		c.CustomID = raw.Labels["custom_id"]
	}
	set, err := plugin.CompileConsumer(raw.Plugins, plugin.Scope("consumer:"+username))
	if err != nil {
		return nil, err
	}
	c.Plugins = set
	return c, nil
}
