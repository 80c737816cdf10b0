// Package apisix holds the Apache APISIX 3.x resource schema as it is stored in
// etcd: the contract between the control core, which writes it, and a data
// plane node (ours or APISIX itself), which reads it. It knows no database.
package apisix

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
)

// Plugins maps a plugin name to its configuration, kept raw so that each
// reader decodes only the plugins it knows.
type Plugins map[string]json.RawMessage

// Labels are APISIX's free-form string labels.
type Labels map[string]string

// Timeout is an upstream's or route's timeouts, in seconds.
type Timeout struct {
	Connect float64 `json:"connect,omitempty"`
	Send    float64 `json:"send,omitempty"`
	Read    float64 `json:"read,omitempty"`
}

// Node is one upstream target.
type Node struct {
	Host     string `json:"host"`
	Port     int    `json:"port,omitempty"`
	Weight   int    `json:"weight"`
	Priority int    `json:"priority,omitempty"`
}

// Addr is host:port, with the scheme's default port left to the caller when 0.
func (n Node) Addr() string {
	if n.Port == 0 {
		return n.Host
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
}

// Nodes accepts both of APISIX's forms: a list of nodes, or a hash of
// "host:port" to weight. It always writes the list form.
type Nodes []Node

// UnmarshalJSON reads the list or the hash form.
func (ns *Nodes) UnmarshalJSON(b []byte) error {
	var list []Node
	if err := json.Unmarshal(b, &list); err == nil {
		*ns = list
		return nil
	}
	var hash map[string]int
	if err := json.Unmarshal(b, &hash); err != nil {
		return fmt.Errorf("nodes: want a list of nodes or a hash of \"host:port\" to weight")
	}
	out := make([]Node, 0, len(hash))
	for addr, w := range hash {
		host, port, err := net.SplitHostPort(addr)
		n := Node{Host: addr, Weight: w}
		if err == nil {
			p, perr := strconv.Atoi(port)
			if perr != nil {
				return fmt.Errorf("nodes: bad port in %q", addr)
			}
			n.Host, n.Port = host, p
		}
		out = append(out, n)
	}
	// Map order is random; keep the result stable for the balancers.
	sort.Slice(out, func(i, j int) bool { return out[i].Addr() < out[j].Addr() })
	*ns = out
	return nil
}

// Upstream is P/upstreams/<id>, or inline in a route or service.
type Upstream struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name,omitempty"`
	Desc         string   `json:"desc,omitempty"`
	Type         string   `json:"type,omitempty"` // roundrobin (default), chash, ewma, least_conn
	Nodes        Nodes    `json:"nodes"`
	HashOn       string   `json:"hash_on,omitempty"` // vars (default), header, cookie, consumer, vars_combinations
	Key          string   `json:"key,omitempty"`
	Scheme       string   `json:"scheme,omitempty"`    // http (default), https, grpc, grpcs, tcp, udp, tls
	PassHost     string   `json:"pass_host,omitempty"` // pass (default), node, rewrite
	UpstreamHost string   `json:"upstream_host,omitempty"`
	Timeout      *Timeout `json:"timeout,omitempty"`
	Retries      *int     `json:"retries,omitempty"`
	RetryTimeout float64  `json:"retry_timeout,omitempty"`
	Labels       Labels   `json:"labels,omitempty"`
	CreateTime   int64    `json:"create_time,omitempty"`
	UpdateTime   int64    `json:"update_time,omitempty"`
	// Checks (health checks) are carried through untouched.
	Checks json.RawMessage `json:"checks,omitempty"`
}

// Route is P/routes/<id>.
type Route struct {
	ID             string          `json:"id"`
	Name           string          `json:"name,omitempty"`
	Desc           string          `json:"desc,omitempty"`
	URI            string          `json:"uri,omitempty"`
	URIs           []string        `json:"uris,omitempty"`
	Methods        []string        `json:"methods,omitempty"`
	Host           string          `json:"host,omitempty"`
	Hosts          []string        `json:"hosts,omitempty"`
	RemoteAddr     string          `json:"remote_addr,omitempty"`
	RemoteAddrs    []string        `json:"remote_addrs,omitempty"`
	Vars           json.RawMessage `json:"vars,omitempty"`
	Priority       int             `json:"priority,omitempty"`
	Plugins        Plugins         `json:"plugins,omitempty"`
	Upstream       *Upstream       `json:"upstream,omitempty"`
	UpstreamID     string          `json:"upstream_id,omitempty"`
	ServiceID      string          `json:"service_id,omitempty"`
	PluginConfigID string          `json:"plugin_config_id,omitempty"`
	Timeout        *Timeout        `json:"timeout,omitempty"`
	// EnableWebsocket proxies websocket upgrades; absent means the service's setting.
	EnableWebsocket *bool  `json:"enable_websocket,omitempty"`
	Labels          Labels `json:"labels,omitempty"`
	// Status 1 enables the route (the default when absent), 0 disables it.
	Status     *int  `json:"status,omitempty"`
	CreateTime int64 `json:"create_time,omitempty"`
	UpdateTime int64 `json:"update_time,omitempty"`
}

// Enabled tells whether the route serves traffic (status absent or 1).
func (r *Route) Enabled() bool { return r.Status == nil || *r.Status == 1 }

// Service is P/services/<id>.
type Service struct {
	ID         string    `json:"id"`
	Name       string    `json:"name,omitempty"`
	Desc       string    `json:"desc,omitempty"`
	Upstream   *Upstream `json:"upstream,omitempty"`
	UpstreamID string    `json:"upstream_id,omitempty"`
	Plugins    Plugins   `json:"plugins,omitempty"`
	Hosts      []string  `json:"hosts,omitempty"`
	Labels     Labels    `json:"labels,omitempty"`
	CreateTime int64     `json:"create_time,omitempty"`
	UpdateTime int64     `json:"update_time,omitempty"`
	// EnableWebsocket proxies websocket upgrades on the service's routes.
	EnableWebsocket *bool `json:"enable_websocket,omitempty"`
}

// PluginConfig is P/plugin_configs/<id>: a plugin template.
type PluginConfig struct {
	ID         string  `json:"id"`
	Desc       string  `json:"desc,omitempty"`
	Plugins    Plugins `json:"plugins"`
	Labels     Labels  `json:"labels,omitempty"`
	CreateTime int64   `json:"create_time,omitempty"`
	UpdateTime int64   `json:"update_time,omitempty"`
}

// Consumer is P/consumers/<username>.
type Consumer struct {
	Username   string  `json:"username"`
	Desc       string  `json:"desc,omitempty"`
	Plugins    Plugins `json:"plugins,omitempty"`
	Labels     Labels  `json:"labels,omitempty"`
	GroupID    string  `json:"group_id,omitempty"`
	CreateTime int64   `json:"create_time,omitempty"`
	UpdateTime int64   `json:"update_time,omitempty"`
}

// Credential is P/consumers/<username>/credentials/<id> (APISIX 3.10+).
type Credential struct {
	ID         string  `json:"id"`
	Desc       string  `json:"desc,omitempty"`
	Plugins    Plugins `json:"plugins"`
	Labels     Labels  `json:"labels,omitempty"`
	CreateTime int64   `json:"create_time,omitempty"`
	UpdateTime int64   `json:"update_time,omitempty"`
}

// StreamRoute is P/stream_routes/<id>: an L4 proxy.
type StreamRoute struct {
	ID         string    `json:"id"`
	Desc       string    `json:"desc,omitempty"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
	ServerAddr string    `json:"server_addr,omitempty"`
	ServerPort int       `json:"server_port,omitempty"`
	SNI        string    `json:"sni,omitempty"`
	Upstream   *Upstream `json:"upstream,omitempty"`
	UpstreamID string    `json:"upstream_id,omitempty"`
	ServiceID  string    `json:"service_id,omitempty"`
	Plugins    Plugins   `json:"plugins,omitempty"`
	Labels     Labels    `json:"labels,omitempty"`
	CreateTime int64     `json:"create_time,omitempty"`
	UpdateTime int64     `json:"update_time,omitempty"`
}

// ServerInfo is P/data_plane/server_info/<node id>, written under a lease by
// every data plane node as its heartbeat.
type ServerInfo struct {
	ID             string `json:"id"`
	Hostname       string `json:"hostname"`
	Version        string `json:"version"`
	BootTime       int64  `json:"boot_time"`
	LastReportTime int64  `json:"last_report_time,omitempty"`
	EtcdVersion    string `json:"etcd_version,omitempty"`
	// Address is where the node serves traffic, for the admin's node list.
	Address string `json:"address,omitempty"`
}

// Labels the control core writes so the etcd state alone tells what runs.
const (
	LabelServiceTemplateID = "api7_service_template_id"
	LabelRouteTemplateID   = "api7_route_template_id"
	LabelVersion           = "version"
	LabelManagedBy         = "managed_by"
)
