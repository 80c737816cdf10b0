package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/models"
)

// resource is one APISIX object a published service writes, before its
// timestamps and the plugins others own in it are merged in.
type resource struct {
	key  string
	kind apisix.Kind
	obj  any
}

// renderService turns a published service into the APISIX objects under the
// group's prefix: its upstream, service, plugin configs and (stream) routes.
// It is pure: the same input gives the same objects.
func renderService(prefix string, p *models.PublishedService) ([]resource, error) {
	spec, rt := p.Spec.V, p.Runtime.V
	sid := p.ServiceID
	labels := func(routeTemplateID string) apisix.Labels {
		l := apisix.Labels{apisix.LabelServiceTemplateID: p.TemplateID, apisix.LabelManagedBy: "devportal"}
		for k, v := range spec.Labels {
			l[k] = v
		}
		if p.Version != "" {
			l[apisix.LabelVersion] = p.Version
		}
		if routeTemplateID != "" {
			l[apisix.LabelRouteTemplateID] = routeTemplateID
		}
		return l
	}
	up := spec.Upstream
	if rt.Upstream != nil {
		up = *rt.Upstream
	}
	upstream := renderUpstream(sid, spec.Name, up, spec.Canary, labels(""))
	out := []resource{
		{key: apisix.Key(prefix, apisix.KindUpstreams, sid), kind: apisix.KindUpstreams, obj: upstream},
		{key: apisix.Key(prefix, apisix.KindServices, sid), kind: apisix.KindServices, obj: &apisix.Service{
			ID: sid, Name: spec.Name, Desc: truncate(spec.Description, 256), UpstreamID: sid, Hosts: rt.Hosts, Labels: labels(""),
		}},
	}
	// One plugin config per plugin template used, private to this service so
	// that publishing one service never changes another's plugins.
	pcIDs := map[string]string{}
	ptIDs := make([]string, 0)
	for _, r := range spec.Routes {
		if r.PluginTemplateID != "" && pcIDs[r.PluginTemplateID] == "" {
			pcIDs[r.PluginTemplateID] = pluginConfigID(sid, r.PluginTemplateID)
			ptIDs = append(ptIDs, r.PluginTemplateID)
		}
	}
	sort.Strings(ptIDs)
	for _, pt := range ptIDs {
		plugins, err := rawPlugins(spec.PluginConfigs[pt])
		if err != nil {
			return nil, err
		}
		l := labels("")
		l["plugin_template_id"] = pt
		out = append(out, resource{key: apisix.Key(prefix, apisix.KindPluginConfigs, pcIDs[pt]), kind: apisix.KindPluginConfigs,
			obj: &apisix.PluginConfig{ID: pcIDs[pt], Plugins: plugins, Labels: l}})
	}
	for _, r := range spec.Routes {
		id := p.RouteIDs.V[r.TemplateID]
		if id == "" {
			return nil, fmt.Errorf("gateway: route %q has no route ID", r.TemplateID)
		}
		route := &apisix.Route{
			ID: id, Name: r.Name, Desc: truncate(r.Description, 256), Methods: r.Methods, Priority: r.Priority,
			ServiceID: sid, PluginConfigID: pcIDs[r.PluginTemplateID], Labels: labels(r.TemplateID),
		}
		uris := routeURIs(rt.PathPrefix, r.Paths)
		if len(uris) == 1 {
			route.URI = uris[0]
		} else {
			route.URIs = uris
		}
		if r.Enabled != nil && !*r.Enabled {
			route.Status = new(int)
		}
		if rt.StripPathPrefix && rt.PathPrefix != "" {
			pr, err := stripPlugin(rt.PathPrefix, spec.PluginConfigs[r.PluginTemplateID])
			if err != nil {
				return nil, err
			}
			route.Plugins = apisix.Plugins{"proxy-rewrite": pr}
		}
		out = append(out, resource{key: apisix.Key(prefix, apisix.KindRoutes, id), kind: apisix.KindRoutes, obj: route})
	}
	for _, r := range spec.StreamRoutes {
		id := p.RouteIDs.V[r.TemplateID]
		if id == "" {
			return nil, fmt.Errorf("gateway: stream route %q has no route ID", r.TemplateID)
		}
		out = append(out, resource{key: apisix.Key(prefix, apisix.KindStreamRoutes, id), kind: apisix.KindStreamRoutes,
			obj: &apisix.StreamRoute{ID: id, Desc: truncate(r.Name, 256), ServerPort: r.ServerPort, RemoteAddr: r.RemoteAddr,
				UpstreamID: sid, Labels: labels(r.TemplateID)}})
	}
	return out, nil
}

// routeURIs puts the group's path prefix in front of each path.
func routeURIs(prefix string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}

// renderUpstream builds the APISIX upstream. A canary is folded into the same
// upstream by weight: primary nodes carry (100-w)% of the traffic and canary
// nodes w%, each node keeping its share within its side.
func renderUpstream(id, name string, u models.UpstreamSpec, canary *models.CanarySpec, labels apisix.Labels) *apisix.Upstream {
	out := &apisix.Upstream{
		ID: id, Name: truncate(name, 100), Type: u.Type, HashOn: u.HashOn, Key: u.Key, Scheme: u.Scheme,
		PassHost: u.PassHost, UpstreamHost: u.UpstreamHost, Retries: u.Retries, Labels: labels,
	}
	if u.Type != "chash" {
		out.HashOn = ""
	}
	if t := u.Timeout; t != nil {
		out.Timeout = &apisix.Timeout{Connect: t.Connect, Send: t.Send, Read: t.Read}
	}
	if canary == nil {
		for _, n := range u.Nodes {
			out.Nodes = append(out.Nodes, apisix.Node{Host: n.Host, Port: n.Port, Weight: n.Weight})
		}
		return out
	}
	add := func(nodes []models.NodeSpec, share int) {
		for _, n := range nodes {
			out.Nodes = append(out.Nodes, apisix.Node{Host: n.Host, Port: n.Port, Weight: n.Weight * share})
		}
	}
	add(u.Nodes, 100-canary.Weight)
	add(canary.Upstream.Nodes, canary.Weight)
	labels["canary_weight"] = fmt.Sprint(canary.Weight)
	return out
}

// stripPlugin is the proxy-rewrite that removes the path prefix: "/api/x"
// becomes "/x" and "/api" becomes "/". Route plugins win over plugin config
// plugins in APISIX, so a template's own proxy-rewrite is carried along.
func stripPlugin(prefix string, templatePlugins map[string]any) (json.RawMessage, error) {
	conf := map[string]any{}
	if pr, ok := templatePlugins["proxy-rewrite"].(map[string]any); ok {
		if pr["uri"] != nil || pr["regex_uri"] != nil {
			return nil, apperr.Invalid("runtime.strip_path_prefix",
				"the route's plugin template rewrites the URI itself (proxy-rewrite uri or regex_uri); strip the prefix there instead")
		}
		for k, v := range pr {
			conf[k] = v
		}
	}
	conf["regex_uri"] = []string{"^" + regexp.QuoteMeta(prefix) + "(/|$)(.*)", "/$2"}
	return json.Marshal(conf)
}

// pluginConfigID names the plugin config of one plugin template inside one
// service, within APISIX's 64-character ID limit.
func pluginConfigID(serviceID, pluginTemplateID string) string {
	id := serviceID + "." + pluginTemplateID
	if len(id) <= 64 {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "pc." + hex.EncodeToString(sum[:])[:40] + "." + pluginTemplateID[:min(len(pluginTemplateID), 16)]
}

func rawPlugins(m map[string]any) (apisix.Plugins, error) {
	out := apisix.Plugins{}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// keysOf lists every etcd key a published service owns.
func keysOf(prefix string, p *models.PublishedService) []string {
	res, err := renderService(prefix, p)
	if err != nil {
		return nil
	}
	keys := make([]string, len(res))
	for i, r := range res {
		keys[i] = r.key
	}
	return keys
}

// keepManaged is the rendered plugins plus the managed ones found in etcd.
func keepManaged(rendered, stored apisix.Plugins) apisix.Plugins {
	out := apisix.Plugins{}
	for name, conf := range rendered {
		out[name] = conf
	}
	for name, conf := range stored {
		if apisix.ManagedPlugins[name] {
			out[name] = conf
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// stamp builds a resource's stored JSON from what is in etcd now: it keeps
// the create_time, and on routes the plugins the core manages for the portal
// (key-auth, the consumer-restriction whitelist, limit-count), so that a
// publish never drops a subscription approved in between.
func (r resource) stamp(now int64) func(cur []byte) ([]byte, error) {
	return func(cur []byte) ([]byte, error) {
		var prev struct {
			CreateTime int64          `json:"create_time"`
			Plugins    apisix.Plugins `json:"plugins"`
		}
		if cur != nil {
			_ = json.Unmarshal(cur, &prev) // a broken value is simply replaced
		}
		created := prev.CreateTime
		if created == 0 {
			created = now
		}
		switch o := r.obj.(type) {
		case *apisix.Route:
			// A copy: Apply may call stamp again with a newer current value.
			c := *o
			c.CreateTime, c.UpdateTime = created, now
			c.Plugins = keepManaged(o.Plugins, prev.Plugins)
			return json.Marshal(&c)
		case *apisix.Service:
			c := *o
			c.CreateTime, c.UpdateTime = created, now
			c.Plugins = keepManaged(o.Plugins, prev.Plugins)
			return json.Marshal(&c)
		case *apisix.Upstream:
			o.CreateTime, o.UpdateTime = created, now
		case *apisix.PluginConfig:
			o.CreateTime, o.UpdateTime = created, now
		case *apisix.StreamRoute:
			o.CreateTime, o.UpdateTime = created, now
		}
		return json.Marshal(r.obj)
	}
}
