// Package apps holds applications and their API keys. An application belongs
// to an organization; on each gateway group where it has a subscription it is
// one consumer, app_<id>, whose key-auth credentials are its keys.
package apps

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/audit"
	"devportal/portal/orgs"
	"devportal/portal/secrets"
)

// MaxGrace bounds a rotation's grace period.
const MaxGrace = 30 * 24 * time.Hour

// ConsumerName is the gateway consumer of an application.
func ConsumerName(appID string) string { return "app_" + appID }

// Input creates an application.
type Input struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Key is what is shown of a key after its creation.
type Key struct {
	ID        string     `json:"id"`
	Hint      string     `json:"hint"` // the first characters, e.g. dpk_Ab12
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Active    bool       `json:"active"`
}

// App is an application as shown.
type App struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"organization_id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Consumer    string    `json:"consumer"`
	Keys        []Key     `json:"keys,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Created is an application with its key, shown in this answer only.
type Created struct {
	App
	APIKey string `json:"api_key"`
}

// Service manages applications and keys.
type Service struct {
	db      *gorm.DB
	gw      *gateway.Service
	orgs    *orgs.Service
	box     *secrets.Box
	keyring *apisix.Keyring
	now     func() time.Time
}

// New builds the service. box seals keys with the server secret; keyring
// encrypts them for etcd as APISIX's Admin API would.
func New(db *gorm.DB, gw *gateway.Service, o *orgs.Service, box *secrets.Box, keyring *apisix.Keyring) *Service {
	return &Service{db: db, gw: gw, orgs: o, box: box, keyring: keyring, now: func() time.Time { return time.Now().UTC() }}
}

// WithClock sets the clock (tests).
func (s *Service) WithClock(now func() time.Time) { s.now = now }

// Create adds an application with its first key.
func (s *Service) Create(ctx context.Context, actor portal.Actor, orgID string, in Input) (Created, error) {
	if err := s.orgs.Authorize(ctx, actor, orgID, false); err != nil {
		return Created{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	var v apperr.Validator
	v.Check(in.Name != "", "name", "is required")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(in.Description) <= 2000, "description", "must be at most 2000 characters")
	if err := v.Err(); err != nil {
		return Created{}, err
	}
	app := models.Application{ID: ids.New(), OrgID: orgID, Name: in.Name, Description: in.Description, CreatedByID: actor.UserID}
	var key string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Application{}).Where("org_id = ? AND LOWER(name) = ?", orgID, strings.ToLower(in.Name)).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return apperr.Invalid("name", "your organization already has an application with this name")
		}
		if err := tx.Create(&app).Error; err != nil {
			return err
		}
		var row models.APIKey
		key, row = s.newKey(app.ID)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.auditIfAdmin(tx, actor, "application.create", app.ID, nil, app)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Created{}, apperr.Invalid("name", "your organization already has an application with this name")
	}
	if err != nil {
		return Created{}, err
	}
	view, err := s.Get(ctx, actor, app.ID)
	return Created{App: view, APIKey: key}, err
}

// newKey makes a key and the row that keeps it: a hash and a sealed copy.
func (s *Service) newKey(appID string) (string, models.APIKey) {
	key := secrets.NewAPIKey()
	return key, models.APIKey{ID: ids.New(), AppID: appID, KeyHash: secrets.HashKey(key),
		KeyEncrypted: s.box.Seal(key), Hint: secrets.Hint(key), CreatedAt: s.now()}
}

// Get returns an application the actor may see; another organization's
// application is not found, whatever its ID.
func (s *Service) Get(ctx context.Context, actor portal.Actor, appID string) (App, error) {
	app, err := s.Load(ctx, s.db, actor, appID)
	if err != nil {
		return App{}, err
	}
	keys, err := s.keys(ctx, s.db, []string{app.ID})
	if err != nil {
		return App{}, err
	}
	return s.view(app, keys[app.ID]), nil
}

// Load reads an application the actor may act on, inside tx.
func (s *Service) Load(ctx context.Context, tx *gorm.DB, actor portal.Actor, appID string) (models.Application, error) {
	var app models.Application
	err := tx.WithContext(ctx).First(&app, "id = ?", appID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return app, apperr.NotFound("application", appID)
	}
	if err != nil {
		return app, err
	}
	if err := s.orgs.Authorize(ctx, actor, app.OrgID, false); err != nil {
		if errors.Is(err, apperr.ErrNotFound) || errors.Is(err, apperr.ErrForbidden) {
			return app, apperr.NotFound("application", appID)
		}
		return app, err
	}
	return app, nil
}

// List lists an organization's applications by name.
func (s *Service) List(ctx context.Context, actor portal.Actor, orgID string, o listing.Options) (listing.Page[App], error) {
	if err := s.orgs.Authorize(ctx, actor, orgID, false); err != nil {
		return listing.Page[App]{}, err
	}
	q := s.db.WithContext(ctx).Model(&models.Application{}).Where("org_id = ?", orgID)
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ?", listing.Like(o.Search))
	}
	// name is unique in an organization: idx_app_org_name (org_id, name)
	// orders the list and makes the order total.
	page, err := listing.Paginate(q, o, listing.By(func(a *models.Application) []any { return []any{a.Name} }, listing.Asc("name")))
	if err != nil {
		return listing.Page[App]{}, err
	}
	appIDs := make([]string, len(page.List))
	for i, r := range page.List {
		appIDs[i] = r.ID
	}
	keys, err := s.keys(ctx, s.db, appIDs)
	if err != nil {
		return listing.Page[App]{}, err
	}
	return listing.Map(page, func(r models.Application) App { return s.view(r, keys[r.ID]) }), nil
}

// RotateKey gives the application a new key, working at once; its current
// keys keep working until the grace period ends, then the gateway drops them.
func (s *Service) RotateKey(ctx context.Context, actor portal.Actor, appID string, grace time.Duration) (string, error) {
	if grace < 0 || grace > MaxGrace {
		return "", apperr.Invalid("grace_seconds", "must be from 0 to %d seconds (30 days)", int(MaxGrace.Seconds()))
	}
	var key string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		app, err := s.Load(ctx, tx, actor, appID)
		if err != nil {
			return err
		}
		now := s.now()
		var old []models.APIKey
		if err := tx.Where("app_id = ? AND (expires_at IS NULL OR expires_at > ?)", app.ID, now).Find(&old).Error; err != nil {
			return err
		}
		var row models.APIKey
		key, row = s.newKey(app.ID)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ends := now.Add(grace)
		for _, k := range old {
			if k.ExpiresAt != nil && k.ExpiresAt.Before(ends) {
				continue // an earlier rotation's grace ends sooner
			}
			if err := tx.Model(&models.APIKey{}).Where("id = ?", k.ID).Update("expires_at", ends).Error; err != nil {
				return err
			}
		}
		groups, err := s.groups(tx, app.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := s.gw.Enqueue(tx, g, s.credentialOp(app.ID, row, key)); err != nil {
				return err
			}
			for _, k := range old {
				if k.ExpiresAt != nil && k.ExpiresAt.Before(ends) {
					continue
				}
				del := gateway.Op{Kind: gateway.OpCredentialDelete, Username: ConsumerName(app.ID), CredentialID: k.ID}
				if err := s.gw.EnqueueAt(tx, g, ends, del); err != nil {
					return err
				}
			}
		}
		return s.auditIfAdmin(tx, actor, "application.key.rotate", app.ID, nil, map[string]any{"new_key": row.Hint, "grace_seconds": int(grace.Seconds())})
	})
	if err != nil {
		return "", err
	}
	s.gw.Notify()
	return key, nil
}

// Delete removes an application: its subscriptions are cancelled and its
// consumer leaves every gateway group.
func (s *Service) Delete(ctx context.Context, actor portal.Actor, appID string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		app, err := s.Load(ctx, tx, actor, appID)
		if err != nil {
			return err
		}
		now := s.now()
		// Its approved subscriptions leave their whitelists first.
		var approved []models.PortalAPI
		if err := tx.Table("portal_apis").Select("portal_apis.*").
			Joins("JOIN subscriptions ON subscriptions.api_id = portal_apis.id").
			Where("subscriptions.app_id = ? AND subscriptions.status = ?", app.ID, "approved").Find(&approved).Error; err != nil {
			return err
		}
		for _, api := range approved {
			op := gateway.Op{Kind: gateway.OpWhitelistRemove, RouteID: api.RouteID, ServiceID: api.ServiceID, Username: ConsumerName(app.ID)}
			if err := s.gw.Enqueue(tx, api.GroupID, op); err != nil {
				return err
			}
		}
		if err := tx.Model(&models.Subscription{}).Where("app_id = ? AND status IN ?", app.ID, []string{"pending", "approved"}).
			Updates(map[string]any{"status": "cancelled", "reason": "The application was deleted.", "decided_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		groups, err := s.groups(tx, app.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			// Deleting the consumer ends its credentials and every whitelist check by it.
			if err := s.gw.Enqueue(tx, g, gateway.Op{Kind: gateway.OpConsumerDelete, Username: ConsumerName(app.ID)}); err != nil {
				return err
			}
		}
		for _, m := range []any{&models.APIKey{}, &models.AppGroup{}} {
			if err := tx.Where("app_id = ?", app.ID).Delete(m).Error; err != nil {
				return err
			}
		}
		if err := tx.Delete(&app).Error; err != nil {
			return err
		}
		return s.auditIfAdmin(tx, actor, "application.delete", app.ID, app, nil)
	})
	if err == nil {
		s.gw.Notify()
	}
	return err
}

// EnsureConsumer makes the application a consumer on a group, with its live
// keys as credentials, unless it already is one there. It runs in the
// caller's transaction (an approval).
func (s *Service) EnsureConsumer(ctx context.Context, tx *gorm.DB, appID, groupID string) error {
	var n int64
	if err := tx.Model(&models.AppGroup{}).Where("app_id = ? AND group_id = ?", appID, groupID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := tx.Create(&models.AppGroup{AppID: appID, GroupID: groupID, CreatedAt: s.now()}).Error; err != nil {
		return err
	}
	ops, err := s.ConsumerOps(ctx, tx, appID)
	if err != nil {
		return err
	}
	return s.gw.Enqueue(tx, groupID, ops...)
}

// ConsumerOps are the ops that write an application's consumer and live
// credentials on a group (also what the reconciler rebuilds).
func (s *Service) ConsumerOps(ctx context.Context, tx *gorm.DB, appID string) ([]gateway.Op, error) {
	var keys []models.APIKey
	if err := tx.WithContext(ctx).Where("app_id = ? AND (expires_at IS NULL OR expires_at > ?)", appID, s.now()).
		Order("created_at").Find(&keys).Error; err != nil {
		return nil, err
	}
	ops := []gateway.Op{{Kind: gateway.OpConsumerPut, Username: ConsumerName(appID), Labels: map[string]string{"application_id": appID}}}
	for _, k := range keys {
		plain, err := s.box.Open(k.KeyEncrypted)
		if err != nil {
			return nil, errors.New("apps: a stored key does not open with this server secret (was DEVPORTAL_SECRET changed?)")
		}
		ops = append(ops, s.credentialOp(appID, k, plain))
	}
	return ops, nil
}

// GroupConsumerOps are ConsumerOps for every application that is a
// consumer on a group, in application ID order, read in two queries
// whatever their number (the reconciler's view of a group).
func (s *Service) GroupConsumerOps(ctx context.Context, tx *gorm.DB, groupID string) ([]gateway.Op, error) {
	db := tx.WithContext(ctx)
	var appIDs []string
	if err := db.Model(&models.AppGroup{}).Where("group_id = ?", groupID).Order("app_id").Pluck("app_id", &appIDs).Error; err != nil {
		return nil, err
	}
	// Only what the ops need, in no order: asking SQLite for (app, created)
	// order makes it walk an index and look each key's row up, which costs
	// more at 100,000 keys than sorting each application's few keys here.
	var keys []models.APIKey
	if err := db.Select("api_keys.id, api_keys.app_id, api_keys.key_encrypted, api_keys.created_at").
		Joins("JOIN app_groups ON app_groups.app_id = api_keys.app_id AND app_groups.group_id = ?", groupID).
		Where("api_keys.expires_at IS NULL OR api_keys.expires_at > ?", s.now()).Find(&keys).Error; err != nil {
		return nil, err
	}
	byApp := make(map[string][]models.APIKey, len(appIDs))
	for _, k := range keys {
		byApp[k.AppID] = append(byApp[k.AppID], k)
	}
	for _, ks := range byApp {
		if len(ks) > 1 {
			slices.SortFunc(ks, func(a, b models.APIKey) int {
				return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
			})
		}
	}
	ops := make([]gateway.Op, 0, len(appIDs)+len(keys))
	for _, id := range appIDs {
		ops = append(ops, gateway.Op{Kind: gateway.OpConsumerPut, Username: ConsumerName(id), Labels: map[string]string{"application_id": id}})
		for _, k := range byApp[id] {
			plain, err := s.box.Open(k.KeyEncrypted)
			if err != nil {
				return nil, errors.New("apps: a stored key does not open with this server secret (was DEVPORTAL_SECRET changed?)")
			}
			ops = append(ops, s.credentialOp(id, k, plain))
		}
	}
	return ops, nil
}

func (s *Service) credentialOp(appID string, k models.APIKey, plain string) gateway.Op {
	return gateway.Op{Kind: gateway.OpCredentialPut, Username: ConsumerName(appID), CredentialID: k.ID,
		EncryptedKey: s.keyring.Encrypt(plain), Labels: map[string]string{"application_id": appID}}
}

func (s *Service) groups(tx *gorm.DB, appID string) ([]string, error) {
	var groups []string
	err := tx.Model(&models.AppGroup{}).Where("app_id = ?", appID).Order("group_id").Pluck("group_id", &groups).Error
	return groups, err
}

func (s *Service) keys(ctx context.Context, tx *gorm.DB, appIDs []string) (map[string][]models.APIKey, error) {
	out := map[string][]models.APIKey{}
	if len(appIDs) == 0 {
		return out, nil
	}
	var rows []models.APIKey
	if err := tx.WithContext(ctx).Select("id, app_id, hint, created_at, expires_at").
		Where("app_id IN ?", appIDs).Order("created_at DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.AppID] = append(out[r.AppID], r)
	}
	return out, nil
}

func (s *Service) view(a models.Application, keys []models.APIKey) App {
	out := App{ID: a.ID, OrgID: a.OrgID, Name: a.Name, Description: a.Description, Consumer: ConsumerName(a.ID), CreatedAt: a.CreatedAt}
	now := s.now()
	for _, k := range keys {
		out.Keys = append(out.Keys, Key{ID: k.ID, Hint: k.Hint, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
			Active: k.ExpiresAt == nil || k.ExpiresAt.After(now)})
	}
	return out
}

// auditIfAdmin records actions platform admins take on applications.
func (s *Service) auditIfAdmin(tx *gorm.DB, actor portal.Actor, action, id string, before, after any) error {
	if !actor.IsAdmin {
		return nil
	}
	return audit.Record(tx, actor, action, "application", id, before, after)
}
