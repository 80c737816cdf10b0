package signup_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/portal"
	"devportal/portal/accounts"
	"devportal/portal/orgs"
	"devportal/portal/signup"
)

func setup(t *testing.T, db *gorm.DB) (*signup.Service, *orgs.Service, *accounts.Service) {
	ctx := context.Background()
	acc := accounts.New(db)
	o := orgs.New(db, acc)
	if err := o.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	return signup.New(db, acc, o), o, acc
}

func TestSignUpValidatesAndWelcomes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		svc, o, _ := setup(t, db)
		admin := portal.Actor{UserID: "a", Email: "admin@x", IsAdmin: true}
		team, _ := o.Create(ctx, admin, "Team")
		if member, err := o.Invite(ctx, admin, team.ID, "New@Dev.test", orgs.RoleAdmin); err != nil || member {
			t.Fatalf("invite = %v, %v", member, err)
		}
		for field, in := range map[string]accounts.UserInput{
			"email":    {Email: "nope", Password: "good-pass-1"},
			"password": {Email: "a@dev.test", Password: "short"},
		} {
			_, err := svc.SignUp(ctx, in)
			var ve *apperr.ValidationError
			if !errors.As(err, &ve) || ve.Fields[field] == "" {
				t.Errorf("%s: %v", field, err)
			}
		}
		if _, err := svc.SignUp(ctx, accounts.UserInput{Email: "p@dev.test"}); err == nil {
			t.Error("sign-up without a password accepted")
		}
		u, err := svc.SignUp(ctx, accounts.UserInput{Email: "new@dev.test", Name: "New", Password: "good-pass-1"})
		if err != nil {
			t.Fatal(err)
		}
		mine, _ := o.ForUser(ctx, u.ID)
		if len(mine) != 2 || mine[0].Name != "Team" || mine[0].Role != orgs.RoleAdmin || mine[1].ID != orgs.DefaultID {
			t.Fatalf("organizations after sign-up = %+v", mine)
		}
		if inv, _ := o.Invitations(ctx, admin, team.ID); len(inv) != 0 {
			t.Fatalf("invitation not taken up: %+v", inv)
		}
		_, err = svc.SignUp(ctx, accounts.UserInput{Email: "NEW@dev.test", Password: "good-pass-1"})
		var ve *apperr.ValidationError
		if !errors.As(err, &ve) || ve.Fields["email"] != "is already registered" {
			t.Fatalf("duplicate e-mail: %v", err)
		}
	})
}

func TestExternalSignInLinksByVerifiedEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		svc, o, _ := setup(t, db)
		local, err := svc.SignUp(ctx, accounts.UserInput{Email: "ann@dev.test", Password: "good-pass-1"})
		if err != nil {
			t.Fatal(err)
		}
		// An unverified e-mail that matches an account does not take it over.
		_, err = svc.SignInExternal(ctx, accounts.ExternalUser{Provider: "github", Subject: "1", Email: "ann@dev.test"})
		if !errors.Is(err, accounts.ErrUnverifiedEmail) {
			t.Fatalf("unverified link: %v", err)
		}
		linked, err := svc.SignInExternal(ctx, accounts.ExternalUser{Provider: "oidc", Subject: "s-1", Email: "Ann@dev.test", EmailVerified: true})
		if err != nil || linked.ID != local.ID {
			t.Fatalf("linked = %+v, %v", linked, err)
		}
		again, err := svc.SignInExternal(ctx, accounts.ExternalUser{Provider: "oidc", Subject: "s-1", Email: "changed@dev.test"})
		if err != nil || again.ID != local.ID {
			t.Fatalf("second sign-in = %+v, %v", again, err)
		}
		fresh, err := svc.SignInExternal(ctx, accounts.ExternalUser{Provider: "github", Subject: "2", Email: "bo@dev.test", Name: "Bo"})
		if err != nil || fresh.ID == local.ID || fresh.PasswordHash != "" {
			t.Fatalf("new account = %+v, %v", fresh, err)
		}
		if mine, _ := o.ForUser(ctx, fresh.ID); len(mine) != 1 || mine[0].ID != orgs.DefaultID {
			t.Fatalf("new account's organizations = %+v", mine)
		}
	})
}
