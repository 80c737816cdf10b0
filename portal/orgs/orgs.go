// Package orgs holds organizations, the tenants of the portal, and their
// members. Every developer-facing query elsewhere is scoped by an
// organization this package says the developer belongs to.
package orgs

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/accounts"
	"devportal/portal/audit"
)

// DefaultID is the organization that always exists.
const DefaultID = "default"

// Roles in an organization.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Org is an organization as shown.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   int64     `json:"members"`
	CreatedAt time.Time `json:"created_at"`
}

// Member is a user of an organization.
type Member struct {
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

// MemberOf is one organization of a user, with the user's role in it.
type MemberOf struct {
	Org
	Role string `json:"role"`
}

// DeveloperInput adds a developer: an existing account by e-mail, or a new one.
type DeveloperInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
	Role     string `json:"role,omitempty"` // member (default) or admin
}

// Service manages organizations and memberships.
type Service struct {
	db       *gorm.DB
	accounts *accounts.Service
}

// New builds the service.
func New(db *gorm.DB, acc *accounts.Service) *Service { return &Service{db: db, accounts: acc} }

// EnsureDefault creates the default organization when missing.
func (s *Service) EnsureDefault(ctx context.Context) error {
	return s.db.WithContext(ctx).Where(models.Organization{ID: DefaultID}).
		Attrs(models.Organization{Name: DefaultID}).FirstOrCreate(&models.Organization{}).Error
}

// Create adds an organization (platform admins only).
func (s *Service) Create(ctx context.Context, actor portal.Actor, name string) (Org, error) {
	if !actor.IsAdmin {
		return Org{}, apperr.ErrForbidden
	}
	name = strings.TrimSpace(name)
	var v apperr.Validator
	v.Check(name != "", "name", "is required")
	v.Check(len(name) <= 200, "name", "must be at most 200 characters")
	if err := v.Err(); err != nil {
		return Org{}, err
	}
	row := models.Organization{ID: ids.New(), Name: name}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Organization{}).Where("LOWER(name) = ?", strings.ToLower(name)).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return apperr.Invalid("name", "an organization with this name exists")
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return audit.Record(tx, actor, "organization.create", "organization", row.ID, nil, row)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Org{}, apperr.Invalid("name", "an organization with this name exists")
	}
	if err != nil {
		return Org{}, err
	}
	return Org{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt}, nil
}

// List lists organizations by name with their member counts (platform admins).
func (s *Service) List(ctx context.Context, o listing.Options) (listing.Page[Org], error) {
	q := s.db.WithContext(ctx).Model(&models.Organization{})
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ?", listing.Like(o.Search))
	}
	// name is unique (its index orders the list): the order is total.
	page, err := listing.Paginate(q, o, listing.By(func(r *models.Organization) []any { return []any{r.Name} }, listing.Asc("name")))
	if err != nil {
		return listing.Page[Org]{}, err
	}
	counts, err := s.memberCounts(ctx, page.List)
	if err != nil {
		return listing.Page[Org]{}, err
	}
	return listing.Map(page, func(r models.Organization) Org {
		return Org{ID: r.ID, Name: r.Name, Members: counts[r.ID], CreatedAt: r.CreatedAt}
	}), nil
}

func (s *Service) memberCounts(ctx context.Context, rows []models.Organization) (map[string]int64, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var counts []struct {
		OrgID string
		N     int64
	}
	err := s.db.WithContext(ctx).Model(&models.Membership{}).Select("org_id, COUNT(*) AS n").
		Where("org_id IN ?", ids).Group("org_id").Scan(&counts).Error
	out := map[string]int64{}
	for _, c := range counts {
		out[c.OrgID] = c.N
	}
	return out, err
}

// Get returns one organization.
func (s *Service) Get(ctx context.Context, id string) (Org, error) {
	var r models.Organization
	err := s.db.WithContext(ctx).First(&r, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Org{}, apperr.NotFound("organization", id)
	}
	if err != nil {
		return Org{}, err
	}
	return Org{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt}, nil
}

// ForUser lists the organizations a user belongs to, by name.
func (s *Service) ForUser(ctx context.Context, userID string) ([]MemberOf, error) {
	var rows []struct {
		models.Organization
		Role string
	}
	err := s.db.WithContext(ctx).Table("organizations").
		Select("organizations.*, memberships.role AS role").
		Joins("JOIN memberships ON memberships.org_id = organizations.id").
		Where("memberships.user_id = ?", userID).Order("organizations.name").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]MemberOf, len(rows))
	for i, r := range rows {
		out[i] = MemberOf{Org: Org{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt}, Role: r.Role}
	}
	return out, nil
}

// Role is the user's role in an organization; ErrNotFound when not a member,
// so callers answer "not found" and reveal nothing of other organizations.
func (s *Service) Role(ctx context.Context, orgID, userID string) (string, error) {
	var m models.Membership
	err := s.db.WithContext(ctx).First(&m, "org_id = ? AND user_id = ?", orgID, userID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", apperr.NotFound("organization", orgID)
	}
	return m.Role, err
}

// Authorize checks that the actor may act in the organization: a platform
// admin always, a member when the organization is theirs (and an
// organization admin when manage is true).
func (s *Service) Authorize(ctx context.Context, actor portal.Actor, orgID string, manage bool) error {
	if actor.IsAdmin {
		_, err := s.Get(ctx, orgID)
		return err
	}
	role, err := s.Role(ctx, orgID, actor.UserID)
	if err != nil {
		return err
	}
	if manage && role != RoleAdmin {
		return apperr.ErrForbidden
	}
	return nil
}

// AddDeveloper adds an account to an organization, creating the account when
// the e-mail is new. Platform admins and organization admins may do it.
func (s *Service) AddDeveloper(ctx context.Context, actor portal.Actor, orgID string, in DeveloperInput) (Member, error) {
	if err := s.Authorize(ctx, actor, orgID, true); err != nil {
		return Member{}, err
	}
	if in.Role == "" {
		in.Role = RoleMember
	}
	if in.Role != RoleMember && in.Role != RoleAdmin {
		return Member{}, apperr.Invalid("role", `must be "member" or "admin"`)
	}
	var out Member
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := s.accounts.UserByEmail(ctx, tx, in.Email)
		if errors.Is(err, apperr.ErrNotFound) {
			u, err = s.accounts.CreateUser(ctx, tx, accounts.UserInput{Email: in.Email, Name: in.Name, Password: in.Password})
		}
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.Membership{}).Where("org_id = ? AND user_id = ?", orgID, u.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return apperr.Invalid("email", "is already a member of this organization")
		}
		m := models.Membership{OrgID: orgID, UserID: u.ID, Role: in.Role}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		out = Member{ID: u.ID, Email: u.Email, Name: u.Name, Role: m.Role, JoinedAt: m.CreatedAt}
		return audit.Record(tx, actor, "organization.member.add", "organization", orgID, nil, out)
	})
	return out, err
}

// Join makes a user a member (sign-up puts new developers in the default organization).
func (s *Service) Join(ctx context.Context, tx *gorm.DB, orgID, userID, role string) error {
	if tx == nil {
		tx = s.db
	}
	return tx.WithContext(ctx).Create(&models.Membership{OrgID: orgID, UserID: userID, Role: role}).Error
}

// Members lists an organization's members by e-mail.
func (s *Service) Members(ctx context.Context, actor portal.Actor, orgID string, o listing.Options) (listing.Page[Member], error) {
	if err := s.Authorize(ctx, actor, orgID, false); err != nil {
		return listing.Page[Member]{}, err
	}
	q := s.db.WithContext(ctx).Table("memberships").
		Select("users.id, users.email, users.name, memberships.role, memberships.created_at AS joined_at").
		Joins("JOIN users ON users.id = memberships.user_id").Where("memberships.org_id = ?", orgID)
	if o.Search != "" {
		q = q.Where("LOWER(users.email) LIKE ? OR LOWER(users.name) LIKE ?", listing.Like(o.Search), listing.Like(o.Search))
	}
	// users.email is unique: the order is total.
	return listing.Paginate(q, o, listing.By(func(m *Member) []any { return []any{m.Email} }, listing.Asc("users.email")))
}

// RemoveMember takes a user out of an organization; the last organization
// admin cannot be removed while other members remain.
func (s *Service) RemoveMember(ctx context.Context, actor portal.Actor, orgID, userID string) error {
	if err := s.Authorize(ctx, actor, orgID, true); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m models.Membership
		err := tx.First(&m, "org_id = ? AND user_id = ?", orgID, userID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("member", userID)
		}
		if err != nil {
			return err
		}
		if m.Role == RoleAdmin {
			var admins, members int64
			tx.Model(&models.Membership{}).Where("org_id = ? AND role = ?", orgID, RoleAdmin).Count(&admins)
			tx.Model(&models.Membership{}).Where("org_id = ?", orgID).Count(&members)
			if admins == 1 && members > 1 {
				return apperr.Conflict("the last admin of the organization cannot leave while it has other members")
			}
		}
		if err := tx.Delete(&m).Error; err != nil {
			return err
		}
		return audit.Record(tx, actor, "organization.member.remove", "organization", orgID, m, nil)
	})
}

// Invite asks someone to join: an existing account becomes a member at once;
// for a new e-mail an invitation waits until that person signs up.
// Organization admins and platform admins may invite. It reports whether the
// person is a member now (true) or invited (false).
func (s *Service) Invite(ctx context.Context, actor portal.Actor, orgID, email, role string) (bool, error) {
	if err := s.Authorize(ctx, actor, orgID, true); err != nil {
		return false, err
	}
	if role == "" {
		role = RoleMember
	}
	in := accounts.UserInput{Email: email}
	if err := accounts.ValidateUser(&in); err != nil {
		return false, err
	}
	if role != RoleMember && role != RoleAdmin {
		return false, apperr.Invalid("role", `must be "member" or "admin"`)
	}
	if _, err := s.accounts.UserByEmail(ctx, nil, in.Email); err == nil {
		_, err := s.AddDeveloper(ctx, actor, orgID, DeveloperInput{Email: in.Email, Role: role})
		return err == nil, err
	} else if !errors.Is(err, apperr.ErrNotFound) {
		return false, err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		tx.Model(&models.Invitation{}).Where("org_id = ? AND email = ?", orgID, in.Email).Count(&n)
		if n > 0 {
			return apperr.Invalid("email", "is already invited")
		}
		inv := models.Invitation{ID: ids.New(), OrgID: orgID, Email: in.Email, Role: role, InvitedByID: actor.UserID}
		if err := tx.Create(&inv).Error; err != nil {
			return err
		}
		return audit.Record(tx, actor, "organization.invite", "organization", orgID, nil, map[string]string{"email": in.Email, "role": role})
	})
	return false, err
}

// Invitations lists an organization's open invitations.
func (s *Service) Invitations(ctx context.Context, actor portal.Actor, orgID string) ([]models.Invitation, error) {
	if err := s.Authorize(ctx, actor, orgID, false); err != nil {
		return nil, err
	}
	var out []models.Invitation
	err := s.db.WithContext(ctx).Where("org_id = ?", orgID).Order("email").Find(&out).Error
	return out, err
}

// Welcome puts a new account in the default organization and takes up the
// invitations sent to its e-mail, inside tx.
func (s *Service) Welcome(ctx context.Context, tx *gorm.DB, user models.User) error {
	var n int64
	if err := tx.WithContext(ctx).Model(&models.Membership{}).Where("org_id = ? AND user_id = ?", DefaultID, user.ID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		if err := s.Join(ctx, tx, DefaultID, user.ID, RoleMember); err != nil {
			return err
		}
	}
	var invites []models.Invitation
	if err := tx.WithContext(ctx).Where("email = ?", user.Email).Find(&invites).Error; err != nil {
		return err
	}
	for _, inv := range invites {
		var m int64
		tx.Model(&models.Membership{}).Where("org_id = ? AND user_id = ?", inv.OrgID, user.ID).Count(&m)
		if m == 0 {
			if err := s.Join(ctx, tx, inv.OrgID, user.ID, inv.Role); err != nil {
				return err
			}
		}
		if err := tx.Delete(&inv).Error; err != nil {
			return err
		}
	}
	return nil
}
