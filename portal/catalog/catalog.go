// Package catalog holds the portal APIs: published routes (or whole
// services) shown on the portal with their OpenAPI documents and policies.
// Publishing an API applies its policy to the gateway through the outbox.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/audit"
)

// Policies.
const (
	AuthKey      = "key-auth"
	AuthNone     = "none"
	ApprovalAuto = "auto"
	ApprovalMan  = "manual"
)

// Input creates or replaces a portal API. OpenAPI may be the document's text
// (JSON or YAML) or, in a JSON request, the document itself as an object.
type Input struct {
	GatewayGroupID string             `json:"gateway_group_id"`
	ServiceID      string             `json:"service_id"`
	RouteID        string             `json:"route_id,omitempty"`
	Name           string             `json:"name"`
	Description    string             `json:"description,omitempty"`
	OpenAPI        Document           `json:"openapi,omitempty" swaggertype:"object"`
	Auth           string             `json:"auth"`
	Approval       string             `json:"approval,omitempty"`
	RateLimit      *gateway.RateLimit `json:"rate_limit,omitempty"`
}

// Document is an OpenAPI document as text; in JSON it may be a string or an object.
type Document string

// UnmarshalJSON takes a JSON string as the text and anything else as the document.
func (d *Document) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = Document(s)
		return nil
	}
	if string(b) == "null" {
		*d = ""
		return nil
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return errors.New("openapi: want the document as a string or an object")
	}
	*d = Document(b)
	return nil
}

// API is a portal API as shown.
type API struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Description    string             `json:"description,omitempty"`
	GatewayGroupID string             `json:"gateway_group_id"`
	ServiceID      string             `json:"service_id"`
	RouteID        string             `json:"route_id,omitempty"`
	Auth           string             `json:"auth"`
	Approval       string             `json:"approval"`
	RateLimit      *gateway.RateLimit `json:"rate_limit,omitempty"`
	Published      bool               `json:"published"`
	PublishedAt    *time.Time         `json:"published_at,omitempty"`
	// Available is false when the route or service was deleted on the gateway.
	Available   bool      `json:"available"`
	ServiceName string    `json:"service_name,omitempty"`
	URIs        []string  `json:"uris,omitempty"`
	Methods     []string  `json:"methods,omitempty"`
	Hosts       []string  `json:"hosts,omitempty"`
	HasDoc      bool      `json:"has_openapi"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NeedsSubscription tells whether calling the API takes an approved subscription.
func (a API) NeedsSubscription() bool { return a.Auth == AuthKey }

// Filter narrows a list.
type Filter struct {
	PublishedOnly bool
}

// Service manages portal APIs.
type Service struct {
	db  *gorm.DB
	gw  *gateway.Service
	now func() time.Time
}

// New builds the service.
func New(db *gorm.DB, gw *gateway.Service) *Service {
	return &Service{db: db, gw: gw, now: func() time.Time { return time.Now().UTC() }}
}

// Create adds an unpublished API.
func (s *Service) Create(ctx context.Context, actor portal.Actor, in Input) (API, error) {
	if !actor.IsAdmin {
		return API{}, apperr.ErrForbidden
	}
	row := models.PortalAPI{ID: ids.New()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.fill(ctx, tx, &row, in); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return audit.Record(tx, actor, "api.create", "api", row.ID, nil, auditView(row))
	})
	if err != nil {
		return API{}, mapDup(err)
	}
	return s.view(ctx, row)
}

// Update replaces an API's fields. On a published API a policy change reaches
// the gateway at once.
func (s *Service) Update(ctx context.Context, actor portal.Actor, id string, in Input) (API, error) {
	if !actor.IsAdmin {
		return API{}, apperr.ErrForbidden
	}
	var row models.PortalAPI
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if row, err = s.load(ctx, tx, id); err != nil {
			return err
		}
		before := row
		if err := s.fill(ctx, tx, &row, in); err != nil {
			return err
		}
		if before.GroupID != row.GroupID || before.ServiceID != row.ServiceID || before.RouteID != row.RouteID {
			var n int64
			tx.Model(&models.Subscription{}).Where("api_id = ? AND status IN ?", id, []string{"pending", "approved"}).Count(&n)
			if n > 0 {
				return apperr.Invalid("route_id", "an API with subscriptions cannot move to another route; create a new API")
			}
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		if row.Published {
			if before.GroupID != row.GroupID || before.ServiceID != row.ServiceID || before.RouteID != row.RouteID {
				if err := s.gw.Enqueue(tx, before.GroupID, gateway.Op{Kind: gateway.OpRoutePolicy, RouteID: before.RouteID, ServiceID: before.ServiceID}); err != nil {
					return err
				}
			}
			if err := s.gw.Enqueue(tx, row.GroupID, PolicyOp(row)); err != nil {
				return err
			}
		}
		return audit.Record(tx, actor, "api.update", "api", id, auditView(before), auditView(row))
	})
	if err != nil {
		return API{}, mapDup(err)
	}
	s.gw.Notify()
	return s.view(ctx, row)
}

// Publish shows the API in the catalog and applies its policy on the gateway:
// with key auth, only keys of approved subscriptions pass from then on.
func (s *Service) Publish(ctx context.Context, actor portal.Actor, id string) (API, error) {
	return s.setPublished(ctx, actor, id, true)
}

// Unpublish hides the API from the catalog; no new subscriptions can be made.
// The gateway keeps enforcing its policy, so approved applications keep their
// access and nothing is opened by accident.
func (s *Service) Unpublish(ctx context.Context, actor portal.Actor, id string) (API, error) {
	return s.setPublished(ctx, actor, id, false)
}

func (s *Service) setPublished(ctx context.Context, actor portal.Actor, id string, on bool) (API, error) {
	if !actor.IsAdmin {
		return API{}, apperr.ErrForbidden
	}
	var row models.PortalAPI
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if row, err = s.load(ctx, tx, id); err != nil {
			return err
		}
		if on {
			if _, err := s.gw.LookupTarget(ctx, target(row)); err != nil {
				return apperr.Conflict("the API's %s is not published on the gateway any more; edit the API first", what(row))
			}
		}
		before := row
		row.Published = on
		if on {
			now := s.now()
			row.PublishedAt = &now
			if err := s.gw.Enqueue(tx, row.GroupID, PolicyOp(row)); err != nil {
				return err
			}
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		action := "api.unpublish"
		if on {
			action = "api.publish"
		}
		return audit.Record(tx, actor, action, "api", id, auditView(before), auditView(row))
	})
	if err != nil {
		return API{}, err
	}
	s.gw.Notify()
	return s.view(ctx, row)
}

// Delete removes an API: its subscriptions end (revoked). A key-auth route
// stays closed, its whitelist emptied; an open route stays open.
func (s *Service) Delete(ctx context.Context, actor portal.Actor, id string) error {
	if !actor.IsAdmin {
		return apperr.ErrForbidden
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&models.Subscription{}).Where("api_id = ? AND status IN ?", id, []string{"pending", "approved"}).
			Updates(map[string]any{"status": "revoked", "reason": "The API was removed from the portal.", "decided_at": now, "decided_by_id": actor.UserID, "updated_at": now}).Error; err != nil {
			return err
		}
		if row.Published || row.PublishedAt != nil {
			// A key-auth route stays closed: deleting the API must not open it
			// to anyone by accident. To open it, set the API's auth to none first.
			op := gateway.Op{Kind: gateway.OpRoutePolicy, RouteID: row.RouteID, ServiceID: row.ServiceID}
			if row.Auth == AuthKey {
				op = gateway.Op{Kind: gateway.OpWhitelistClear, RouteID: row.RouteID, ServiceID: row.ServiceID}
				closed := models.ClosedRoute{GroupID: row.GroupID, ServiceID: row.ServiceID, RouteID: row.RouteID}
				if err := tx.Where(closed).FirstOrCreate(&closed).Error; err != nil {
					return err
				}
			}
			if err := s.gw.Enqueue(tx, row.GroupID, op); err != nil {
				return err
			}
		}
		if err := tx.Delete(&row).Error; err != nil {
			return err
		}
		return audit.Record(tx, actor, "api.delete", "api", id, auditView(row), nil)
	})
	if err == nil {
		s.gw.Notify()
	}
	return err
}

// Get returns one API; with publishedOnly an unpublished one is not found
// (what developers see).
func (s *Service) Get(ctx context.Context, id string, publishedOnly bool) (API, error) {
	row, err := s.load(ctx, s.db, id)
	if err != nil {
		return API{}, err
	}
	if publishedOnly && !row.Published {
		return API{}, apperr.NotFound("API", id)
	}
	return s.view(ctx, row)
}

// Document returns the API's parsed OpenAPI document and its text (nil, ""
// when it has none).
func (s *Service) Document(ctx context.Context, id string, publishedOnly bool) (*openapi3.T, string, string, error) {
	row, err := s.load(ctx, s.db, id)
	if err != nil {
		return nil, "", "", err
	}
	if publishedOnly && !row.Published {
		return nil, "", "", apperr.NotFound("API", id)
	}
	if row.OpenAPI == "" {
		return nil, "", "", nil
	}
	doc, format, err := ParseOpenAPI(ctx, row.OpenAPI)
	return doc, row.OpenAPI, format, err
}

// List lists APIs by name.
func (s *Service) List(ctx context.Context, f Filter, o listing.Options) (listing.Page[API], error) {
	q := s.db.WithContext(ctx).Model(&models.PortalAPI{})
	if f.PublishedOnly {
		q = q.Where("published = ?", true)
	}
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ? OR LOWER(description) LIKE ?", listing.Like(o.Search), listing.Like(o.Search))
	}
	// name is unique (its index orders the list): the order is total.
	page, err := listing.Paginate(q.Select("id, name, description, group_id, service_id, route_id, auth, approval, rate_limit_count, rate_limit_window, published, published_at, created_at, updated_at, open_api_format"), o,
		listing.By(func(a *models.PortalAPI) []any { return []any{a.Name} }, listing.Asc("name")))
	if err != nil {
		return listing.Page[API]{}, err
	}
	views, err := s.views(ctx, page.List)
	return listing.Page[API]{List: views, Total: page.Total, Next: page.Next}, err
}

// fill validates input into row.
func (s *Service) fill(ctx context.Context, tx *gorm.DB, row *models.PortalAPI, in Input) error {
	in.Name = strings.TrimSpace(in.Name)
	var v apperr.Validator
	v.Check(in.Name != "", "name", "is required")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(in.Description) <= 4000, "description", "must be at most 4000 characters")
	v.Check(in.GatewayGroupID != "", "gateway_group_id", "is required")
	v.Check(in.ServiceID != "", "service_id", "is required")
	if in.Auth == "" {
		in.Auth = AuthKey
	}
	v.Check(in.Auth == AuthKey || in.Auth == AuthNone, "auth", `must be "key-auth" or "none"`)
	if in.Approval == "" {
		in.Approval = ApprovalMan
	}
	v.Check(in.Approval == ApprovalMan || in.Approval == ApprovalAuto, "approval", `must be "manual" or "auto"`)
	if rl := in.RateLimit; rl != nil {
		v.Check(rl.Count >= 1 && rl.Count <= 1_000_000_000, "rate_limit.count", "must be from 1 to 1,000,000,000 requests")
		v.Check(rl.TimeWindow >= 1 && rl.TimeWindow <= 366*86400, "rate_limit.time_window", "must be from 1 second to 366 days")
	}
	var taken int64
	if err := tx.Model(&models.PortalAPI{}).Where("id <> ? AND LOWER(name) = ?", row.ID, strings.ToLower(in.Name)).Count(&taken).Error; err != nil {
		return err
	}
	v.Check(taken == 0, "name", "an API with this name exists")
	doc := string(in.OpenAPI)
	_, format, err := ParseOpenAPI(ctx, doc)
	var ve *apperr.ValidationError
	if errors.As(err, &ve) {
		v.Add("openapi", "%s", ve.Fields["openapi"])
	} else if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	ref := gateway.TargetRef{GroupID: in.GatewayGroupID, ServiceID: in.ServiceID, RouteID: in.RouteID}
	if _, err := s.gw.LookupTarget(ctx, ref); err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			field := "service_id"
			if in.RouteID != "" {
				field = "route_id"
			}
			return apperr.Invalid(field, "%v on gateway group %q", err, in.GatewayGroupID)
		}
		return err
	}
	// One API per route: a route and its whole service cannot both be APIs.
	var clash models.PortalAPI
	err = tx.Where("id <> ? AND group_id = ? AND service_id = ? AND (route_id = ? OR route_id = '' OR ? = '')",
		row.ID, in.GatewayGroupID, in.ServiceID, in.RouteID, in.RouteID).Select("id, name").First(&clash).Error
	if err == nil {
		return apperr.Invalid("route_id", "API %q already covers this route; one route belongs to one API", clash.Name)
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	// A route closed by a deleted API is this API's to manage now.
	if err := tx.Where("group_id = ? AND service_id = ? AND route_id = ?", in.GatewayGroupID, in.ServiceID, in.RouteID).
		Delete(&models.ClosedRoute{}).Error; err != nil {
		return err
	}
	row.Name, row.Description = in.Name, in.Description
	row.GroupID, row.ServiceID, row.RouteID = in.GatewayGroupID, in.ServiceID, in.RouteID
	row.OpenAPI, row.OpenAPIFormat = strings.TrimSpace(doc), format
	row.Auth, row.Approval = in.Auth, in.Approval
	row.RateLimitCount, row.RateLimitWindow = 0, 0
	if rl := in.RateLimit; rl != nil {
		row.RateLimitCount, row.RateLimitWindow = rl.Count, rl.TimeWindow
	}
	return nil
}

func (s *Service) load(ctx context.Context, tx *gorm.DB, id string) (models.PortalAPI, error) {
	var row models.PortalAPI
	err := tx.WithContext(ctx).First(&row, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, apperr.NotFound("API", id)
	}
	return row, err
}

func (s *Service) view(ctx context.Context, row models.PortalAPI) (API, error) {
	v, err := s.views(ctx, []models.PortalAPI{row})
	if err != nil {
		return API{}, err
	}
	return v[0], nil
}

// views resolves what each API points at on the gateway in one query.
func (s *Service) views(ctx context.Context, rows []models.PortalAPI) ([]API, error) {
	refs := make([]gateway.TargetRef, len(rows))
	for i, r := range rows {
		refs[i] = target(r)
	}
	targets, err := s.gw.LookupTargets(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([]API, len(rows))
	for i, r := range rows {
		a := API{ID: r.ID, Name: r.Name, Description: r.Description, GatewayGroupID: r.GroupID, ServiceID: r.ServiceID,
			RouteID: r.RouteID, Auth: r.Auth, Approval: r.Approval, Published: r.Published, PublishedAt: r.PublishedAt,
			HasDoc: r.OpenAPIFormat != "", CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r.RateLimitCount > 0 {
			a.RateLimit = &gateway.RateLimit{Count: r.RateLimitCount, TimeWindow: r.RateLimitWindow}
		}
		if t, ok := targets[refs[i]]; ok {
			a.Available, a.ServiceName, a.URIs, a.Methods, a.Hosts = true, t.ServiceName, t.URIs, t.Methods, t.Hosts
		}
		out[i] = a
	}
	return out, nil
}

// PolicyOp is the gateway change that enforces an API's policy.
func PolicyOp(r models.PortalAPI) gateway.Op {
	op := gateway.Op{Kind: gateway.OpRoutePolicy, RouteID: r.RouteID, ServiceID: r.ServiceID, KeyAuth: r.Auth == AuthKey}
	if r.RateLimitCount > 0 {
		op.RateLimit = &gateway.RateLimit{Count: r.RateLimitCount, TimeWindow: r.RateLimitWindow}
	}
	return op
}

// WhitelistOp adds or removes a consumer on the API's whitelist.
func WhitelistOp(r models.PortalAPI, consumer string, add bool) gateway.Op {
	kind := gateway.OpWhitelistRemove
	if add {
		kind = gateway.OpWhitelistAdd
	}
	return gateway.Op{Kind: kind, RouteID: r.RouteID, ServiceID: r.ServiceID, Username: consumer}
}

// WhitelistAllOp adds consumers, in order, to the API's whitelist.
func WhitelistAllOp(r models.PortalAPI, consumers []string) gateway.Op {
	return gateway.Op{Kind: gateway.OpWhitelistAdd, RouteID: r.RouteID, ServiceID: r.ServiceID, Usernames: consumers}
}

func target(r models.PortalAPI) gateway.TargetRef {
	return gateway.TargetRef{GroupID: r.GroupID, ServiceID: r.ServiceID, RouteID: r.RouteID}
}

func what(r models.PortalAPI) string {
	if r.RouteID != "" {
		return "route " + r.RouteID
	}
	return "service " + r.ServiceID
}

// auditView is the API without its (large) document.
func auditView(r models.PortalAPI) models.PortalAPI {
	r.OpenAPI = ""
	return r
}

func mapDup(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Invalid("name", "an API with this name exists")
	}
	return err
}
