// Package admin holds the pages of the admin side (/admin), one page per
// file. The handlers copy domain values into the plain structs below, so
// the views know nothing of the database, etcd or the domain packages.
package admin

import "time"

// Subscription is a row of the subscription queue.
type Subscription struct {
	ID        string
	Status    string
	Reason    string
	AppID     string
	AppName   string
	OrgID     string
	APIID     string
	APIName   string
	CreatedAt time.Time
	DecidedAt *time.Time
}

// GroupStatus is a gateway group with its data plane nodes counted.
type GroupStatus struct {
	ID      string
	Name    string
	Prefix  string
	Online  int
	Offline int
	Err     string // the nodes could not be listed
}

// Group is a gateway group.
type Group struct {
	ID            string
	Name          string
	Description   string
	Prefix        string
	EtcdEndpoints []string
	CreatedAt     time.Time
}

// Node is a data plane node.
type Node struct {
	ID       string
	Hostname string
	Version  string
	Address  string
	Status   string
	BootTime time.Time
	LastSeen time.Time
}

// Drift is one etcd key that is not what the database says.
type Drift struct {
	Key    string
	Kind   string
	ID     string
	Issue  string
	Fields []string
}

// ServiceRow is a published service in a list.
type ServiceRow struct {
	ID          string
	GroupID     string
	TemplateID  string
	Name        string
	Type        string
	Version     string
	Routes      int
	PublishedAt time.Time
}

// TemplateRow is a service template in the hub's list.
type TemplateRow struct {
	ID        string
	Name      string
	Type      string
	Routes    int
	Published []PublishedRef
	UpdatedAt time.Time
}

// PublishedRef is where a template runs.
type PublishedRef struct {
	GroupID   string
	GroupName string
	ServiceID string
	Version   string
}

// TemplateForm is the service template form's values.
type TemplateForm struct {
	ID           string // empty for a new template
	Name         string
	Description  string
	Type         string
	UpstreamType string
	Scheme       string
	Nodes        string // one "host:port [weight]" per line
	Routes       []RouteForm
	StreamRoutes string // JSON, for stream services
}

// RouteForm is one route row of the template form.
type RouteForm struct {
	TemplateID       string
	Name             string
	Paths            string // space or comma separated
	Methods          string // space or comma separated; empty: all
	PluginTemplateID string
}

// PublishForm is the publish-a-version form's values.
type PublishForm struct {
	GroupID      string
	Version      string
	ServiceID    string
	Runtime      bool
	RuntimeNodes string
	Hosts        string
	PathPrefix   string
	Strip        bool
}

// Route is a published route.
type Route struct {
	ID         string
	TemplateID string
	Name       string
	URIs       []string
	Methods    []string
	ServerPort int
}

// History is a past state of a published service.
type History struct {
	ID        string
	Version   string
	Reason    string
	Routes    int
	CreatedAt time.Time
}

// PluginTemplate is a named set of route plugins.
type PluginTemplate struct {
	ID          string
	Name        string
	Description string
	Plugins     []string // plugin names
	// Warnings name plugins the built-in data plane node does not run.
	Warnings  []string
	UpdatedAt time.Time
}

// PluginForm is the plugin template form's values.
type PluginForm struct {
	ID          string
	Name        string
	Description string
	Plugins     string // JSON object
}

// API is a portal API in the list.
type API struct {
	ID          string
	Name        string
	Description string
	GroupID     string
	GroupName   string
	ServiceID   string
	ServiceName string
	RouteID     string
	Auth        string
	Approval    string
	RateLimit   string // "100 / 60 s", or empty
	Published   bool
	Available   bool
	URIs        []string
	UpdatedAt   time.Time
}

// APIForm is the portal API form's values.
type APIForm struct {
	ID          string
	Name        string
	Description string
	Target      string // "<group>|<service>|<route or empty>"
	OpenAPI     string
	Auth        string
	Approval    string
	RateCount   string
	RateWindow  string
}

// Org is an organization.
type Org struct {
	ID        string
	Name      string
	Members   int64
	CreatedAt time.Time
}

// Member is a member of an organization.
type Member struct {
	ID       string
	Email    string
	Name     string
	Role     string
	JoinedAt time.Time
}

// App is an application.
type App struct {
	ID          string
	OrgID       string
	Name        string
	Description string
	Consumer    string
	Keys        []Key
	CreatedAt   time.Time
}

// Key is what is shown of an application key: never the key itself.
type Key struct {
	ID        string
	Hint      string
	CreatedAt time.Time
	ExpiresAt *time.Time
	Active    bool
}

// DeveloperForm is the add-a-developer form's values.
type DeveloperForm struct {
	Email string
	Name  string
	Role  string
}

// AuditEntry is one audit log entry.
type AuditEntry struct {
	ID         int64
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Before     string
	After      string
	CreatedAt  time.Time
}
