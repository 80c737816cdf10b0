// Package signup brings new developers in: an account with a password or
// from an identity provider, a place in the default organization, and the
// invitations waiting for their e-mail, all in one transaction.
package signup

import (
	"context"

	"gorm.io/gorm"

	"devportal/models"
	"devportal/portal/accounts"
	"devportal/portal/orgs"
)

// Service signs developers up.
type Service struct {
	db       *gorm.DB
	accounts *accounts.Service
	orgs     *orgs.Service
}

// New builds the service.
func New(db *gorm.DB, acc *accounts.Service, o *orgs.Service) *Service {
	return &Service{db: db, accounts: acc, orgs: o}
}

// SignUp creates an account with a password (it is required here) and
// welcomes it. Field problems come back as one apperr.ValidationError.
func (s *Service) SignUp(ctx context.Context, in accounts.UserInput) (models.User, error) {
	if in.Password == "" {
		in.Password = " " // let validation report the rule, not "required"
	}
	var user models.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if user, err = s.accounts.CreateUser(ctx, tx, in); err != nil {
			return err
		}
		return s.orgs.Welcome(ctx, tx, user)
	})
	return user, err
}

// SignInExternal returns the account of an identity provider's sign-in,
// linking or creating it, and welcomes a new one.
func (s *Service) SignInExternal(ctx context.Context, ext accounts.ExternalUser) (models.User, error) {
	var user models.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var created bool
		var err error
		if user, created, err = s.accounts.LinkExternal(ctx, tx, ext); err != nil {
			return err
		}
		if created {
			return s.orgs.Welcome(ctx, tx, user)
		}
		return nil
	})
	return user, err
}
