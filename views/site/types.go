package site

import "time"

// The handlers copy domain values into the plain structs below, so the
// developer pages know nothing of the database, etcd or the domain packages.

// API is a catalog entry with its policies in words.
type API struct {
	ID          string
	Name        string
	Description string
	Available   bool
	AuthNeeded  bool   // key-auth: an application key and a subscription
	Approval    string // "manual" or "auto"
	RateLimit   string // "100 requests per 60 seconds", "" when unlimited
	Paths       []string
	Methods     []string
	HasDoc      bool
}

// ApprovalText says how subscriptions are approved.
func (a API) ApprovalText() string {
	if !a.AuthNeeded {
		return "No subscription needed"
	}
	if a.Approval == "manual" {
		return "Approval: manual (an administrator reviews each request)"
	}
	return "Approval: automatic"
}

// AuthText says whether a key is needed.
func (a API) AuthText() string {
	if a.AuthNeeded {
		return "API key required"
	}
	return "Open: no key needed"
}

// Key is one of an application's keys, masked.
type Key struct {
	Hint      string
	CreatedAt time.Time
	ExpiresAt *time.Time
	Active    bool
}

// App is an application of the current organization.
type App struct {
	ID          string
	Name        string
	Description string
	Consumer    string
	Keys        []Key
	CreatedAt   time.Time
}

// KeyHint is the hint of the app's active key (the newest), or "".
func (a App) KeyHint() string {
	for _, k := range a.Keys {
		if k.Active && k.ExpiresAt == nil {
			return k.Hint
		}
	}
	if len(a.Keys) > 0 {
		return a.Keys[0].Hint
	}
	return ""
}

// Subscription is an application's subscription to an API.
type Subscription struct {
	ID        string
	Status    string
	Reason    string
	AppID     string
	AppName   string
	APIID     string
	APIName   string
	CreatedAt time.Time
	DecidedAt *time.Time
}

// Org is an organization the developer belongs to.
type Org struct {
	ID   string
	Name string
	Role string
}

// Member is a member of an organization.
type Member struct {
	ID       string
	Email    string
	Name     string
	Role     string
	JoinedAt time.Time
}

// Invitation is a pending invitation.
type Invitation struct {
	Email     string
	Role      string
	CreatedAt time.Time
}

// Provider is an identity provider the sign-in pages offer.
type Provider struct {
	Key  string // the /auth/{provider} segment
	Name string
}

// Doc is an OpenAPI document prepared for reading.
type Doc struct {
	Title       string
	Version     string
	Description string
	Servers     []string
	Groups      []TagGroup
}

// TagGroup is the operations of one tag.
type TagGroup struct {
	Name        string
	Description string
	Ops         []Operation
}

// Operation is one method and path.
type Operation struct {
	ID          string
	Method      string
	Path        string
	Summary     string
	Description string
	Deprecated  bool
	Params      []Param
	Body        *Body
	Responses   []Response
}

// Param is one parameter.
type Param struct {
	Name        string
	In          string
	Required    bool
	Type        string
	Description string
	Example     string
}

// Body is a request body.
type Body struct {
	ContentType string
	Required    bool
	Description string
	Schema      string
	Example     string
}

// Response is one response code.
type Response struct {
	Code        string
	Description string
	ContentType string
	Schema      string
	Example     string
}

// TryIt is the try-it form's values and, after a run, the answer.
type TryIt struct {
	Method  string
	Path    string
	Headers string
	Body    string
	APIKey  string
	Error   string // why the request was not sent or failed
	Result  *TryResult
}

// TryResult is the gateway's answer.
type TryResult struct {
	Status    int
	Headers   []Header
	Body      string
	Truncated bool
	Took      string
}

// Header is one response header.
type Header struct{ Name, Value string }

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func statusKind(s string) string {
	switch s {
	case "approved":
		return "ok"
	case "pending":
		return "pending"
	case "rejected", "revoked":
		return "rejected"
	default:
		return "cancelled"
	}
}
