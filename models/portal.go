package models

import "time"

// Organization isolates developers and their applications (tenants).
type Organization struct {
	ID        string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"size:200;uniqueIndex;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Membership puts a user in an organization. Role "admin" may invite and
// remove members; "member" uses the organization's applications.
type Membership struct {
	OrgID     string `gorm:"primaryKey;size:32"`
	UserID    string `gorm:"primaryKey;size:32;index"`
	Role      string `gorm:"size:16;not null"`
	CreatedAt time.Time
}

// Application belongs to an organization, not to a developer; it is one
// gateway consumer app_<id> in each group where it has a subscription.
type Application struct {
	ID          string    `gorm:"primaryKey;size:32"`
	OrgID       string    `gorm:"size:32;not null;uniqueIndex:idx_app_org_name"`
	Name        string    `gorm:"size:200;not null;uniqueIndex:idx_app_org_name"`
	Description string    `gorm:"size:2000"`
	CreatedByID string    `gorm:"size:32"`
	CreatedAt   time.Time `gorm:"index"`
	UpdatedAt   time.Time
}

// APIKey is one key-auth key of an application: an APISIX credential. The
// key itself is stored only encrypted with the server's secret (so etcd can
// be rebuilt), beside a SHA-256 hash for lookup.
type APIKey struct {
	ID           string `gorm:"primaryKey;size:32"` // the APISIX credential ID
	AppID        string `gorm:"size:32;not null;index"`
	KeyHash      string `gorm:"size:64;not null;uniqueIndex"`
	KeyEncrypted string `gorm:"size:200;not null"`
	// Hint is the key's first characters, to tell keys apart on screen.
	Hint      string `gorm:"size:16"`
	CreatedAt time.Time
	// ExpiresAt is set when a rotation replaced the key: it works until then.
	ExpiresAt *time.Time `gorm:"index"`
}

// AppGroup records that an application's consumer exists on a gateway group.
type AppGroup struct {
	AppID     string `gorm:"primaryKey;size:32"`
	GroupID   string `gorm:"primaryKey;size:64"`
	CreatedAt time.Time
}

// PortalAPI is a published route, or a whole published service, shown on
// the portal with its documentation and policies.
type PortalAPI struct {
	ID          string `gorm:"primaryKey;size:32"`
	Name        string `gorm:"size:200;not null;uniqueIndex;index:idx_api_published_name,priority:2"`
	Description string `gorm:"size:4000"`
	GroupID     string `gorm:"size:64;not null;index:idx_api_target"`
	ServiceID   string `gorm:"size:64;not null;index:idx_api_target"`
	RouteID     string `gorm:"size:64;index:idx_api_target"` // empty: the whole service
	OpenAPI     string `gorm:"type:text"`
	// OpenAPIFormat is "json" or "yaml", as uploaded.
	OpenAPIFormat   string `gorm:"size:8"`
	Auth            string `gorm:"size:16;not null"` // key-auth or none
	Approval        string `gorm:"size:16;not null"` // manual or auto
	RateLimitCount  int
	RateLimitWindow int // seconds
	// The catalog lists the published APIs by name: idx_api_published_name.
	Published   bool `gorm:"not null;default:false;index:idx_api_published_name,priority:1"`
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Subscription is an application's request to call an API.
type Subscription struct {
	ID string `gorm:"primaryKey;size:32;index:idx_sub_time,priority:2;index:idx_sub_status_time,priority:3;index:idx_sub_api_status_time,priority:4;index:idx_sub_api_time,priority:3;index:idx_sub_app_time,priority:3;index:idx_sub_org_time,priority:3;index:idx_sub_org_api_time,priority:4"`
	// At most one active (pending or approved) subscription per application
	// and API: a partial unique index made in Migrate.
	//
	// Lists are newest first (created_at DESC, id DESC) under any filter,
	// so every filter has an index ending in (created_at, id): a page reads
	// its rows in order and stops, however many match.
	AppID string `gorm:"size:32;not null;index:idx_sub_app_time,priority:1"`
	APIID string `gorm:"size:32;not null;index:idx_sub_api_status_time,priority:1;index:idx_sub_api_time,priority:1;index:idx_sub_org_api_time,priority:2"`
	OrgID string `gorm:"size:32;not null;index:idx_sub_org_time,priority:1;index:idx_sub_org_api_time,priority:1"`
	// Status is pending, approved, rejected, revoked or cancelled.
	Status        string `gorm:"size:16;not null;index:idx_sub_api_status_time,priority:2;index:idx_sub_status_time,priority:1"`
	Reason        string `gorm:"size:2000"` // the admin's reason on reject or revoke, shown to the developer
	RequestedByID string `gorm:"size:32"`
	DecidedByID   string `gorm:"size:32"`
	DecidedAt     *time.Time
	CreatedAt     time.Time `gorm:"index:idx_sub_time,priority:1;index:idx_sub_status_time,priority:2;index:idx_sub_api_status_time,priority:3;index:idx_sub_api_time,priority:2;index:idx_sub_app_time,priority:2;index:idx_sub_org_time,priority:2;index:idx_sub_org_api_time,priority:3"`
	UpdatedAt     time.Time
}

// AuditEntry records an admin action: who, what, when, before and after.
type AuditEntry struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	ActorID    string    `gorm:"size:32;index"`
	ActorEmail string    `gorm:"size:254"`
	Action     string    `gorm:"size:64;not null;index"`
	TargetType string    `gorm:"size:32;index:idx_audit_target"`
	TargetID   string    `gorm:"size:64;index:idx_audit_target"`
	Before     string    `gorm:"type:text"`
	After      string    `gorm:"type:text"`
	CreatedAt  time.Time `gorm:"index"`
}

// Identity links an account to a sign-in at an identity provider
// (OpenID Connect, GitHub).
type Identity struct {
	Provider  string `gorm:"primaryKey;size:32"`
	Subject   string `gorm:"primaryKey;size:255"`
	UserID    string `gorm:"size:32;not null;index"`
	Email     string `gorm:"size:254"`
	CreatedAt time.Time
}

// Invitation asks someone, by e-mail, to join an organization; it is taken
// up when an account with that e-mail signs up or signs in.
type Invitation struct {
	ID          string `gorm:"primaryKey;size:32"`
	OrgID       string `gorm:"size:32;not null;uniqueIndex:idx_invite_org_email"`
	Email       string `gorm:"size:254;not null;uniqueIndex:idx_invite_org_email;index"`
	Role        string `gorm:"size:16;not null"`
	InvitedByID string `gorm:"size:32"`
	CreatedAt   time.Time
}

// ClosedRoute is the target of a deleted key-auth API: it stays closed (key
// auth, nobody on the whitelist) so deleting an API never opens a route; a
// new API on the same target takes it over.
type ClosedRoute struct {
	GroupID   string `gorm:"primaryKey;size:64"`
	ServiceID string `gorm:"primaryKey;size:64"`
	RouteID   string `gorm:"primaryKey;size:64"` // empty: the whole service
	CreatedAt time.Time
}
