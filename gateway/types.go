package gateway

import (
	"time"

	"devportal/internal/listing"
	"devportal/models"
)

// Group is a gateway group as the Admin API shows it.
type Group struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Prefix        string    `json:"prefix"`
	EtcdEndpoints []string  `json:"etcd_endpoints,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// GroupInput creates a group. Prefix defaults to /apisix_<id>; EtcdEndpoints
// default to the control plane's own etcd.
type GroupInput struct {
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	Prefix        string   `json:"prefix,omitempty"`
	EtcdEndpoints []string `json:"etcd_endpoints,omitempty"`
}

// Node is a data plane node of a group.
type Node struct {
	ID       string    `json:"id"`
	Hostname string    `json:"hostname"`
	Version  string    `json:"version"`
	Address  string    `json:"address,omitempty"`
	Status   string    `json:"status"` // online or offline
	BootTime time.Time `json:"boot_time"`
	LastSeen time.Time `json:"last_seen"`
}

// Node statuses.
const (
	NodeOnline  = "online"
	NodeOffline = "offline"
)

// PluginTemplate is a named set of route plugins (APISIX plugin_configs).
type PluginTemplate struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Plugins     map[string]any `json:"plugins"`
	// Warnings name plugins that the product's built-in data plane node does
	// not run (APISIX nodes do): it skips routes using them.
	Warnings  []string  `json:"warnings,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PluginTemplateInput creates or replaces a plugin template.
type PluginTemplateInput struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Plugins     map[string]any `json:"plugins"`
}

// Service types.
const (
	TypeHTTP   = "http"
	TypeStream = "stream"
)

// ServiceTemplate is a service in the Service Hub.
type ServiceTemplate struct {
	ID string `json:"id"`
	models.ServiceSpec
	// Published lists where the template runs, group by group.
	Published []PublishedRef `json:"published,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// PublishedRef names one group's published copy of a template.
type PublishedRef struct {
	GatewayGroupID string `json:"gateway_group_id"`
	ServiceID      string `json:"service_id"`
	Version        string `json:"version,omitempty"`
}

// ServiceTemplateInput creates or replaces a template. Routes keep their
// template_id when given one that the template already has; new routes get one.
type ServiceTemplateInput = models.ServiceSpec

// PublishInput publishes a template version to a group.
type PublishInput struct {
	GatewayGroupID string `json:"gateway_group_id"`
	Version        string `json:"version"`
	// ServiceID is the per-group service ID: chosen on the first publish to a
	// group (default: the template ID) and fixed afterwards.
	ServiceID string `json:"service_id,omitempty"`
	// RouteIDs chooses per-group route IDs by route template ID, for routes
	// that are new to the group (default: the route template ID).
	RouteIDs map[string]string `json:"route_ids,omitempty"`
	// Runtime replaces the group's runtime configuration; absent, the group's
	// current one is kept (or the template's upstream on a first publish).
	Runtime *models.Runtime `json:"runtime,omitempty"`
}

// DirectServiceInput creates a service directly on a group (and its template),
// or edits a published service in place.
type DirectServiceInput struct {
	models.ServiceSpec
	ServiceID string            `json:"service_id,omitempty"`
	RouteIDs  map[string]string `json:"route_ids,omitempty"`
	Runtime   *models.Runtime   `json:"runtime,omitempty"`
}

// PublishedService is a service live on one group.
type PublishedService struct {
	ID             string             `json:"id"` // the per-group service ID
	GatewayGroupID string             `json:"gateway_group_id"`
	TemplateID     string             `json:"template_id"`
	Version        string             `json:"version,omitempty"`
	Name           string             `json:"name"`
	Type           string             `json:"type"`
	Spec           models.ServiceSpec `json:"spec"`
	Runtime        models.Runtime     `json:"runtime"`
	Routes         []PublishedRoute   `json:"routes,omitempty"`
	StreamRoutes   []PublishedRoute   `json:"stream_routes,omitempty"`
	PublishedAt    time.Time          `json:"published_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	// Pending: the gateway group's etcd could not be reached, so the change is
	// recorded and queued; it reaches etcd, in order, once etcd is back.
	Pending bool `json:"pending,omitempty"`
}

// PublishedRoute is one route of a published service with both its IDs.
type PublishedRoute struct {
	ID         string   `json:"id"`          // per-group route ID (the etcd key)
	TemplateID string   `json:"template_id"` // route template ID, the same in every group
	Name       string   `json:"name"`
	URIs       []string `json:"uris,omitempty"` // as written to etcd, path prefix included
	Methods    []string `json:"methods,omitempty"`
	ServerPort int      `json:"server_port,omitempty"`
}

// HistoryEntry is a read-only past state of a published service.
type HistoryEntry struct {
	ID         string             `json:"id"`
	ServiceID  string             `json:"service_id"`
	TemplateID string             `json:"template_id"`
	Version    string             `json:"version,omitempty"`
	Reason     string             `json:"reason"`
	Spec       models.ServiceSpec `json:"spec"`
	Runtime    models.Runtime     `json:"runtime"`
	CreatedAt  time.Time          `json:"created_at"`
}

// RollbackInput names the history entry to republish.
type RollbackInput struct {
	HistoryID string `json:"history_id"`
}

// ListOptions pages and filters a list.
type ListOptions = listing.Options

// Page is a page of a list with the total count.
type Page[T any] = listing.Page[T]
