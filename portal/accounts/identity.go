package accounts

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/models"
)

// ExternalUser is who an identity provider says signed in.
type ExternalUser struct {
	Provider      string // "oidc", "github"
	Subject       string // the provider's stable user ID
	Email         string
	EmailVerified bool
	Name          string
}

// ErrUnverifiedEmail: the provider's e-mail belongs to an account here but
// the provider did not verify it, so it cannot be trusted to link them.
var ErrUnverifiedEmail = errors.New("accounts: the identity provider did not verify this e-mail")

// LinkExternal finds the account of an external sign-in: by the identity
// already linked, else by the provider's verified e-mail (linking it), else
// a new account. created says a new account was made (to welcome it).
func (s *Service) LinkExternal(ctx context.Context, tx *gorm.DB, ext ExternalUser) (user models.User, created bool, err error) {
	if tx == nil {
		tx = s.db
	}
	if ext.Provider == "" || ext.Subject == "" {
		return user, false, apperr.Invalid("provider", "the identity provider gave no user ID")
	}
	var id models.Identity
	err = tx.WithContext(ctx).First(&id, "provider = ? AND subject = ?", ext.Provider, ext.Subject).Error
	if err == nil {
		err = tx.WithContext(ctx).First(&user, "id = ?", id.UserID).Error
		return user, false, err
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return user, false, err
	}
	email := strings.ToLower(strings.TrimSpace(ext.Email))
	if email == "" {
		return user, false, apperr.Invalid("email", "the identity provider gave no e-mail address")
	}
	user, err = s.UserByEmail(ctx, tx, email)
	switch {
	case err == nil:
		if !ext.EmailVerified {
			return models.User{}, false, ErrUnverifiedEmail
		}
	case errors.Is(err, apperr.ErrNotFound):
		name := ext.Name
		if len(name) > 200 {
			name = name[:200]
		}
		if user, err = s.CreateUser(ctx, tx, UserInput{Email: email, Name: name}); err != nil {
			return user, false, err
		}
		created = true
	default:
		return user, false, err
	}
	link := models.Identity{Provider: ext.Provider, Subject: ext.Subject, UserID: user.ID, Email: email}
	if err := tx.WithContext(ctx).Create(&link).Error; err != nil {
		return models.User{}, false, err
	}
	return user, created, nil
}
