// Package subscriptions holds an application's requests to call APIs and
// their states: pending → approved | rejected; approved → revoked (by an
// admin) | cancelled (by the developer). An approved subscription is the
// application's consumer on the API's whitelist; every change to it is
// recorded in the same transaction as the state change (the outbox).
package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/apps"
	"devportal/portal/audit"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
)

// States.
const (
	Pending   = "pending"
	Approved  = "approved"
	Rejected  = "rejected"
	Revoked   = "revoked"
	Cancelled = "cancelled"
)

// Subscription is a subscription as shown.
type Subscription struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason,omitempty"`
	AppID     string     `json:"application_id"`
	AppName   string     `json:"application_name,omitempty"`
	OrgID     string     `json:"organization_id"`
	APIID     string     `json:"api_id"`
	APIName   string     `json:"api_name,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// Filter narrows a list. Developers must name an organization they belong to.
type Filter struct {
	Status string
	AppID  string
	APIID  string
	OrgID  string
}

// Service manages subscriptions.
type Service struct {
	db   *gorm.DB
	gw   *gateway.Service
	apps *apps.Service
	orgs *orgs.Service
	now  func() time.Time
}

// New builds the service.
func New(db *gorm.DB, gw *gateway.Service, a *apps.Service, o *orgs.Service) *Service {
	return &Service{db: db, gw: gw, apps: a, orgs: o, now: func() time.Time { return time.Now().UTC() }}
}

// Request subscribes an application to a published API. With automatic
// approval it is approved at once; otherwise it waits for an admin.
func (s *Service) Request(ctx context.Context, actor portal.Actor, appID, apiID string) (Subscription, error) {
	var v apperr.Validator
	v.Check(appID != "", "application_id", "is required")
	v.Check(apiID != "", "api_id", "is required")
	if err := v.Err(); err != nil {
		return Subscription{}, err
	}
	var sub models.Subscription
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		app, err := s.apps.Load(ctx, tx, actor, appID)
		if err != nil {
			return err
		}
		var api models.PortalAPI
		err = tx.First(&api, "id = ?", apiID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && !api.Published && !actor.IsAdmin {
			return apperr.NotFound("API", apiID)
		}
		if err != nil {
			return err
		}
		if !api.Published {
			return apperr.Conflict("the API is not published on the portal")
		}
		if api.Auth != catalog.AuthKey {
			return apperr.Invalid("api_id", "this API needs no subscription: call it without a key")
		}
		if _, err := s.gw.LookupTarget(ctx, gateway.TargetRef{GroupID: api.GroupID, ServiceID: api.ServiceID, RouteID: api.RouteID}); err != nil {
			return apperr.Conflict("the API is unavailable: its route is no longer on the gateway")
		}
		var active models.Subscription
		err = tx.Where("app_id = ? AND api_id = ? AND status IN ?", app.ID, api.ID, []string{Pending, Approved}).First(&active).Error
		if err == nil {
			return apperr.Conflict("application %q already has a %s subscription to %q", app.Name, active.Status, api.Name)
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		now := s.now()
		sub = models.Subscription{ID: ids.New(), AppID: app.ID, APIID: api.ID, OrgID: app.OrgID, Status: Pending,
			RequestedByID: actor.UserID, CreatedAt: now, UpdatedAt: now}
		if api.Approval == catalog.ApprovalAuto {
			sub.Status, sub.DecidedAt = Approved, &now
		}
		if err := tx.Create(&sub).Error; err != nil {
			return err
		}
		// The application is a consumer on the group from its first request,
		// so its key is known there: while pending, the gateway answers 403
		// (not subscribed) rather than 401 (unknown key).
		if err := s.apps.EnsureConsumer(ctx, tx, app.ID, api.GroupID); err != nil {
			return err
		}
		if sub.Status == Approved {
			return s.grant(ctx, tx, app.ID, api)
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Subscription{}, apperr.Conflict("the application already has an active subscription to this API")
	}
	if err != nil {
		return Subscription{}, err
	}
	s.gw.Notify()
	return s.Get(ctx, actor, sub.ID)
}

// grant puts the application's consumer on the API's whitelist.
func (s *Service) grant(ctx context.Context, tx *gorm.DB, appID string, api models.PortalAPI) error {
	if err := s.apps.EnsureConsumer(ctx, tx, appID, api.GroupID); err != nil {
		return err
	}
	return s.gw.Enqueue(tx, api.GroupID, catalog.WhitelistOp(api, apps.ConsumerName(appID), true))
}

// Approve lets a pending subscription's application call the API.
func (s *Service) Approve(ctx context.Context, actor portal.Actor, id string) (Subscription, error) {
	return s.transition(ctx, actor, id, "approve", Approved, "", []string{Pending}, true)
}

// Reject refuses a pending subscription; the reason is shown to the developer.
func (s *Service) Reject(ctx context.Context, actor portal.Actor, id, reason string) (Subscription, error) {
	return s.transition(ctx, actor, id, "reject", Rejected, reason, []string{Pending}, true)
}

// Revoke ends an approved subscription: the key stops working for this API at once.
func (s *Service) Revoke(ctx context.Context, actor portal.Actor, id, reason string) (Subscription, error) {
	return s.transition(ctx, actor, id, "revoke", Revoked, reason, []string{Approved}, true)
}

// Cancel is the developer ending their own subscription (pending or approved).
func (s *Service) Cancel(ctx context.Context, actor portal.Actor, id string) (Subscription, error) {
	return s.transition(ctx, actor, id, "cancel", Cancelled, "", []string{Pending, Approved}, false)
}

// transition moves a subscription from one of the states in from to to,
// compare-and-set on its status so two deciders cannot both win.
func (s *Service) transition(ctx context.Context, actor portal.Actor, id, verb, to, reason string, from []string, adminOnly bool) (Subscription, error) {
	if adminOnly && !actor.IsAdmin {
		return Subscription{}, apperr.ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > 2000 {
		return Subscription{}, apperr.Invalid("reason", "must be at most 2000 characters")
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sub models.Subscription
		err := tx.First(&sub, "id = ?", id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("subscription", id)
		}
		if err != nil {
			return err
		}
		if !actor.IsAdmin {
			if err := s.orgs.Authorize(ctx, actor, sub.OrgID, false); err != nil {
				return apperr.NotFound("subscription", id)
			}
		}
		if !slices.Contains(from, sub.Status) {
			return apperr.Conflict("the subscription is %s; only a %s subscription can be %s", sub.Status, strings.Join(from, " or "), pastTense(verb))
		}
		now := s.now()
		res := tx.Model(&models.Subscription{}).Where("id = ? AND status = ?", id, sub.Status).
			Updates(map[string]any{"status": to, "reason": reason, "decided_by_id": actor.UserID, "decided_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("the subscription was changed by someone else meanwhile; reload it")
		}
		var api models.PortalAPI
		if err := tx.First(&api, "id = ?", sub.APIID).Error; err != nil {
			return err
		}
		consumer := apps.ConsumerName(sub.AppID)
		switch {
		case to == Approved:
			if err := s.grant(ctx, tx, sub.AppID, api); err != nil {
				return err
			}
		case sub.Status == Approved:
			if err := s.gw.Enqueue(tx, api.GroupID, catalog.WhitelistOp(api, consumer, false)); err != nil {
				return err
			}
		}
		if actor.IsAdmin {
			after := sub
			after.Status, after.Reason, after.DecidedByID, after.DecidedAt, after.UpdatedAt = to, reason, actor.UserID, &now, now
			return audit.Record(tx, actor, "subscription."+verb, "subscription", id, sub, after)
		}
		return nil
	})
	if err != nil {
		return Subscription{}, err
	}
	s.gw.Notify()
	return s.Get(ctx, actor, id)
}

// Get returns one subscription the actor may see.
func (s *Service) Get(ctx context.Context, actor portal.Actor, id string) (Subscription, error) {
	rows, err := s.query(ctx).Where("subscriptions.id = ?", id).Limit(1).Rows()
	if err != nil {
		return Subscription{}, err
	}
	list, err := s.scan(rows)
	if err != nil {
		return Subscription{}, err
	}
	if len(list) == 0 {
		return Subscription{}, apperr.NotFound("subscription", id)
	}
	if !actor.IsAdmin {
		if err := s.orgs.Authorize(ctx, actor, list[0].OrgID, false); err != nil {
			return Subscription{}, apperr.NotFound("subscription", id)
		}
	}
	return list[0], nil
}

// List lists subscriptions, newest first. A developer sees only an
// organization of theirs and must name it (or an application of it).
func (s *Service) List(ctx context.Context, actor portal.Actor, f Filter, o listing.Options) (listing.Page[Subscription], error) {
	if f.Status != "" && !slices.Contains([]string{Pending, Approved, Rejected, Revoked, Cancelled}, f.Status) {
		return listing.Page[Subscription]{}, apperr.Invalid("status", "must be pending, approved, rejected, revoked or cancelled")
	}
	if !actor.IsAdmin {
		if f.AppID != "" {
			app, err := s.apps.Load(ctx, s.db, actor, f.AppID)
			if err != nil {
				return listing.Page[Subscription]{}, err
			}
			f.OrgID = app.OrgID
		}
		if f.OrgID == "" {
			return listing.Page[Subscription]{}, apperr.Invalid("organization_id", "is required")
		}
		if err := s.orgs.Authorize(ctx, actor, f.OrgID, false); err != nil {
			return listing.Page[Subscription]{}, err
		}
		if f.AppID != "" {
			// The application is the organization's: filtering on both
			// lets a database walk the organization's index (a fifth of
			// a million rows) instead of the application's ten.
			f.OrgID = ""
		}
	}
	// Every filter has an index ending in (created_at, id) (models.Subscription).
	page, err := listing.Paginate(s.filtered(ctx, f), o, listing.By(func(s *models.Subscription) []any { return []any{s.CreatedAt, s.ID} },
		listing.Desc("created_at"), listing.Desc("id")))
	if err != nil {
		return listing.Page[Subscription]{}, err
	}
	ids := make([]string, len(page.List))
	for i, p := range page.List {
		ids[i] = p.ID
	}
	out := listing.Page[Subscription]{Total: page.Total, Next: page.Next, List: []Subscription{}}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.query(ctx).Where("subscriptions.id IN ?", ids).Order("subscriptions.created_at DESC, subscriptions.id DESC").Rows()
	if err != nil {
		return out, err
	}
	out.List, err = s.scan(rows)
	return out, err
}

// Counts counts the subscriptions of each state under an admin's filter
// (f.Status is ignored), and all of them under "", each up to most+1 (more
// than most): a million rows cost what most do.
func (s *Service) Counts(ctx context.Context, actor portal.Actor, f Filter, most int) (map[string]int64, error) {
	if !actor.IsAdmin {
		return nil, apperr.ErrForbidden
	}
	out := map[string]int64{}
	for _, st := range []string{Pending, Approved, Rejected, Revoked, Cancelled, ""} {
		f.Status = st
		n, err := listing.CountUpTo(s.filtered(ctx, f), most)
		if err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, nil
}

// filtered selects the subscriptions f names.
func (s *Service) filtered(ctx context.Context, f Filter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&models.Subscription{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.AppID != "" {
		q = q.Where("app_id = ?", f.AppID)
	}
	if f.APIID != "" {
		q = q.Where("api_id = ?", f.APIID)
	}
	if f.OrgID != "" {
		q = q.Where("org_id = ?", f.OrgID)
	}
	return q
}

// query joins the names shown beside a subscription.
func (s *Service) query(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("subscriptions").
		Select("subscriptions.id, subscriptions.status, subscriptions.reason, subscriptions.app_id, applications.name, " +
			"subscriptions.org_id, subscriptions.api_id, portal_apis.name, subscriptions.created_at, subscriptions.decided_at").
		Joins("LEFT JOIN applications ON applications.id = subscriptions.app_id").
		Joins("LEFT JOIN portal_apis ON portal_apis.id = subscriptions.api_id")
}

func (s *Service) scan(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]Subscription, error) {
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var x Subscription
		var appName, apiName *string
		if err := rows.Scan(&x.ID, &x.Status, &x.Reason, &x.AppID, &appName, &x.OrgID, &x.APIID, &apiName, &x.CreatedAt, &x.DecidedAt); err != nil {
			return nil, fmt.Errorf("subscriptions: scan: %w", err)
		}
		if appName != nil {
			x.AppName = *appName
		}
		if apiName != nil {
			x.APIName = *apiName
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func pastTense(verb string) string {
	switch verb {
	case "approve":
		return "approved"
	case "reject":
		return "rejected"
	case "revoke":
		return "revoked"
	default:
		return "cancelled"
	}
}
