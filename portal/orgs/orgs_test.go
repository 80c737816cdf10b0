package orgs_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/internal/listing"
	"devportal/portal"
	"devportal/portal/accounts"
	"devportal/portal/orgs"
)

func TestMembershipRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		acc := accounts.New(db)
		svc := orgs.New(db, acc)
		if err := svc.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		admin := portal.Actor{UserID: "admin", Email: "admin@x", IsAdmin: true}
		if _, err := svc.Create(ctx, portal.Actor{UserID: "dev"}, "acme"); !errors.Is(err, apperr.ErrForbidden) {
			t.Fatalf("developer created an org: %v", err)
		}
		acme, err := svc.Create(ctx, admin, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, admin, "ACME"); err == nil {
			t.Fatal("duplicate name accepted")
		}
		owner, err := svc.AddDeveloper(ctx, admin, acme.ID, orgs.DeveloperInput{Email: "Owner@Acme.test", Password: "owner-pass-1", Role: orgs.RoleAdmin})
		if err != nil || owner.Email != "owner@acme.test" {
			t.Fatalf("owner = %+v, %v", owner, err)
		}
		ownerActor := portal.Actor{UserID: owner.ID}
		// An organization admin adds a member; a member cannot.
		member, err := svc.AddDeveloper(ctx, ownerActor, acme.ID, orgs.DeveloperInput{Email: "m@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddDeveloper(ctx, portal.Actor{UserID: member.ID}, acme.ID, orgs.DeveloperInput{Email: "x@acme.test"}); !errors.Is(err, apperr.ErrForbidden) {
			t.Fatalf("member invited: %v", err)
		}
		if _, err := svc.AddDeveloper(ctx, ownerActor, acme.ID, orgs.DeveloperInput{Email: "m@acme.test"}); err == nil {
			t.Fatal("added twice")
		}
		for field, in := range map[string]orgs.DeveloperInput{
			"email":    {Email: "not-an-email"},
			"password": {Email: "p@acme.test", Password: "short"},
			"role":     {Email: "r@acme.test", Role: "owner"},
		} {
			_, err := svc.AddDeveloper(ctx, admin, acme.ID, in)
			var ve *apperr.ValidationError
			if !errors.As(err, &ve) || ve.Fields[field] == "" {
				t.Errorf("%s: %v", field, err)
			}
		}
		// An existing account joins a second organization.
		if _, err := svc.AddDeveloper(ctx, admin, orgs.DefaultID, orgs.DeveloperInput{Email: "m@acme.test"}); err != nil {
			t.Fatal(err)
		}
		mine, err := svc.ForUser(ctx, member.ID)
		if err != nil || len(mine) != 2 || mine[0].Name != "Acme" || mine[1].Name != "default" {
			t.Fatalf("member's orgs = %+v, %v", mine, err)
		}
		page, err := svc.Members(ctx, ownerActor, acme.ID, listing.Options{})
		if err != nil || page.Total != 2 {
			t.Fatalf("members = %+v, %v", page, err)
		}
		// Strangers see nothing; the last admin stays while others remain.
		if _, err := svc.Members(ctx, portal.Actor{UserID: "stranger"}, acme.ID, listing.Options{}); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("stranger listed members: %v", err)
		}
		if err := svc.RemoveMember(ctx, ownerActor, acme.ID, owner.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("last admin removed: %v", err)
		}
		if err := svc.RemoveMember(ctx, ownerActor, acme.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Role(ctx, acme.ID, member.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("removed member still has a role: %v", err)
		}
		all, _ := svc.List(ctx, listing.Options{})
		if all.Total != 2 {
			t.Fatalf("orgs = %+v", all)
		}
	})
}
