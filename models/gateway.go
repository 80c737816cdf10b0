package models

import (
	"encoding/json"
	"time"
)

// GatewayGroup is a set of data plane nodes reading one etcd prefix.
type GatewayGroup struct {
	ID          string `gorm:"primaryKey;size:64"`
	Name        string `gorm:"size:200;uniqueIndex;not null"`
	Description string `gorm:"size:2000"`
	Prefix      string `gorm:"size:200;not null"`
	// EtcdEndpoints, when set, are this group's own etcd cluster; empty means
	// the control plane's default etcd.
	EtcdEndpoints JSON[[]string]
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PluginTemplate is a named set of route plugins (APISIX plugin_configs).
type PluginTemplate struct {
	ID          string `gorm:"primaryKey;size:32"`
	Name        string `gorm:"size:200;uniqueIndex;not null"`
	Description string `gorm:"size:2000"`
	Plugins     JSON[map[string]any]
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ServiceTemplate is a service in the Service Hub: edited freely, not live.
type ServiceTemplate struct {
	// The list's order (name, id) is an index: a page after a cursor reads
	// only its own rows.
	ID        string `gorm:"primaryKey;size:32;index:idx_service_templates_name_id,priority:2"`
	Name      string `gorm:"size:200;not null;index:idx_service_templates_name_id,priority:1"`
	Type      string `gorm:"size:10;not null"`
	Spec      JSON[ServiceSpec]
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PublishedService is the one version of a service live on one group.
type PublishedService struct {
	// A group's list is by (name, service_id): idx_published_group_name.
	GroupID    string `gorm:"primaryKey;size:64;index:idx_published_group_name,priority:1"`
	ServiceID  string `gorm:"primaryKey;size:64;index:idx_published_group_name,priority:3"`
	TemplateID string `gorm:"size:32;not null;index"`
	Name       string `gorm:"size:200;index:idx_published_group_name,priority:2"`
	Version    string `gorm:"size:64"`
	Spec       JSON[ServiceSpec]
	Runtime    JSON[Runtime]
	// RouteIDs maps each route template ID to its per-group route ID.
	RouteIDs    JSON[map[string]string]
	PublishedAt time.Time
	UpdatedAt   time.Time
	// Pending is not stored: set when a change was queued for an unreachable etcd.
	Pending bool `gorm:"-"`
}

// PublishedRoute owns a route ID inside a group, so two services can never
// claim the same route key.
type PublishedRoute struct {
	GroupID         string `gorm:"primaryKey;size:64"`
	RouteID         string `gorm:"primaryKey;size:64"`
	Kind            string `gorm:"size:16;not null"` // routes or stream_routes
	ServiceID       string `gorm:"size:64;not null;index"`
	RouteTemplateID string `gorm:"size:32;not null"`
}

// DataPlaneNode remembers every node seen in a group, so a node that stopped
// is listed offline rather than forgotten.
type DataPlaneNode struct {
	GroupID  string `gorm:"primaryKey;size:64"`
	NodeID   string `gorm:"primaryKey;size:128"`
	Hostname string `gorm:"size:255"`
	Version  string `gorm:"size:64"`
	Address  string `gorm:"size:255"`
	BootTime time.Time
	LastSeen time.Time
}

// ServiceHistory is a read-only past state of a published service: a version
// replaced by a newer publish, or the state before a direct edit.
type ServiceHistory struct {
	// A service's history is listed newest first, (created_at, id) after its
	// group and service: idx_history_service_time.
	ID         string `gorm:"primaryKey;size:32;index:idx_history_service_time,priority:4"`
	GroupID    string `gorm:"size:64;not null;index:idx_history_service_time,priority:1"`
	ServiceID  string `gorm:"size:64;not null;index:idx_history_service_time,priority:2"`
	TemplateID string `gorm:"size:32;not null"`
	Version    string `gorm:"size:64"`
	Spec       JSON[ServiceSpec]
	Runtime    JSON[Runtime]
	RouteIDs   JSON[map[string]string]
	Reason     string    `gorm:"size:200"`
	CreatedAt  time.Time `gorm:"index;index:idx_history_service_time,priority:3"`
}

// ServiceSpec is what a service template says: its kind, upstream and routes.
// It is copied into a published service and its history as it was.
type ServiceSpec struct {
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	Type         string            `json:"type"`
	Upstream     UpstreamSpec      `json:"upstream"`
	Canary       *CanarySpec       `json:"canary,omitempty"`
	Routes       []RouteSpec       `json:"routes,omitempty"`
	StreamRoutes []StreamRouteSpec `json:"stream_routes,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	// PluginConfigs is filled only in published and history copies: the
	// plugin templates' plugins as they were when this version was published.
	PluginConfigs map[string]map[string]any `json:"plugin_configs,omitempty"`
}

// UpstreamSpec is an upstream as the hub edits it.
type UpstreamSpec struct {
	Type         string       `json:"type,omitempty"`    // roundrobin (default) or chash
	HashOn       string       `json:"hash_on,omitempty"` // for chash
	Key          string       `json:"key,omitempty"`     // for chash
	Scheme       string       `json:"scheme,omitempty"`  // http (default), https; tcp for stream
	PassHost     string       `json:"pass_host,omitempty"`
	UpstreamHost string       `json:"upstream_host,omitempty"`
	Nodes        []NodeSpec   `json:"nodes"`
	Timeout      *TimeoutSpec `json:"timeout,omitempty"`
	Retries      *int         `json:"retries,omitempty"`
}

// NodeSpec is one upstream target. Weight defaults to 1 when absent; 0 is
// kept (a drained node).
type NodeSpec struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Weight int    `json:"weight"`
}

// UnmarshalJSON gives an absent weight its default of 1.
func (n *NodeSpec) UnmarshalJSON(b []byte) error {
	type plain NodeSpec
	v := plain{Weight: 1}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = NodeSpec(v)
	return nil
}

// TimeoutSpec is in seconds.
type TimeoutSpec struct {
	Connect float64 `json:"connect,omitempty"`
	Send    float64 `json:"send,omitempty"`
	Read    float64 `json:"read,omitempty"`
}

// CanarySpec is a second upstream taking Weight percent of the traffic.
type CanarySpec struct {
	Upstream UpstreamSpec `json:"upstream"`
	Weight   int          `json:"weight"`
}

// RouteSpec is an HTTP route of a service template.
type RouteSpec struct {
	TemplateID       string   `json:"template_id"`
	Name             string   `json:"name"`
	Description      string   `json:"description,omitempty"`
	Paths            []string `json:"paths"`
	Methods          []string `json:"methods,omitempty"`
	PluginTemplateID string   `json:"plugin_template_id,omitempty"`
	Priority         int      `json:"priority,omitempty"`
	Enabled          *bool    `json:"enabled,omitempty"`
}

// StreamRouteSpec is a TCP route of a stream service template.
type StreamRouteSpec struct {
	TemplateID string `json:"template_id"`
	Name       string `json:"name"`
	ServerPort int    `json:"server_port"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

// Runtime is a published service's per-group configuration, kept across
// versions published to the group.
type Runtime struct {
	// Upstream, when set, replaces the template's upstream on this group.
	Upstream        *UpstreamSpec `json:"upstream,omitempty"`
	Hosts           []string      `json:"hosts,omitempty"`
	PathPrefix      string        `json:"path_prefix,omitempty"`
	StripPathPrefix bool          `json:"strip_path_prefix,omitempty"`
}

// OutboxEntry is one change to a group's etcd, recorded in the same database
// transaction as the portal change that needs it and applied in ID order by
// the outbox worker, so an etcd outage delays a change but never loses it.
type OutboxEntry struct {
	ID      int64  `gorm:"primaryKey;autoIncrement"`
	GroupID string `gorm:"size:64;not null;index:idx_outbox_pending,where:applied_at IS NULL"`
	// Payload is the JSON of a gateway.Op. Secrets in it are already
	// encrypted as they will be stored in etcd.
	Payload   string    `gorm:"type:text;not null"`
	NotBefore time.Time `gorm:"not null"`
	AppliedAt *time.Time
	Attempts  int
	LastError string `gorm:"size:1000"`
	CreatedAt time.Time
}
