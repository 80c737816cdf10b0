package accounts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/models"
	"devportal/portal/accounts"
)

// each runs fn on a fresh database of every kind (SQLite, and PostgreSQL when
// DATABASE_URL is set).
func each(t *testing.T, fn func(t *testing.T, svc *accounts.Service)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { fn(t, accounts.New(db)) })
}

func TestEnsureAdminGeneratesOnce(t *testing.T) {
	each(t, func(t *testing.T, svc *accounts.Service) {
		ctx := context.Background()
		got, err := svc.EnsureAdmin(ctx, accounts.Seed{})
		if err != nil {
			t.Fatalf("EnsureAdmin: %v", err)
		}
		if !got.Created || got.Email != accounts.DefaultAdminEmail || got.Password == "" || !strings.HasPrefix(got.Token, "dpt_") {
			t.Fatalf("first start: got %+v, want a created admin with generated password and token", got)
		}
		user, err := svc.VerifyAPIToken(ctx, got.Token)
		if err != nil || !user.IsAdmin || user.Email != accounts.DefaultAdminEmail {
			t.Fatalf("VerifyAPIToken(generated) = %+v, %v; want the admin", user, err)
		}
		if _, err := svc.CheckPassword(ctx, got.Email, got.Password); err != nil {
			t.Fatalf("CheckPassword(generated): %v", err)
		}

		again, err := svc.EnsureAdmin(ctx, accounts.Seed{})
		if err != nil {
			t.Fatalf("second EnsureAdmin: %v", err)
		}
		if again != (accounts.Seeded{}) {
			t.Fatalf("second start: got %+v, want nothing generated", again)
		}
	})
}

func TestEnsureAdminFromSeed(t *testing.T) {
	each(t, func(t *testing.T, svc *accounts.Service) {
		ctx := context.Background()
		seed := accounts.Seed{Email: "Ops@Example.com", Password: "correct horse", Token: "seeded-token-0123456789"}
		got, err := svc.EnsureAdmin(ctx, seed)
		if err != nil {
			t.Fatalf("EnsureAdmin: %v", err)
		}
		if !got.Created || got.Password != "" || got.Token != "" || got.Email != "ops@example.com" {
			t.Fatalf("got %+v, want created with nothing generated", got)
		}
		if _, err := svc.VerifyAPIToken(ctx, seed.Token); err != nil {
			t.Fatalf("VerifyAPIToken(seeded): %v", err)
		}
		if _, err := svc.CheckPassword(ctx, "ops@example.com", "correct horse"); err != nil {
			t.Fatalf("CheckPassword(seeded): %v", err)
		}
		if _, err := svc.CheckPassword(ctx, "ops@example.com", "wrong horse"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("CheckPassword(wrong) = %v, want ErrNotFound", err)
		}

		// A later start with a new token adds it; the old one keeps working.
		next, err := svc.EnsureAdmin(ctx, accounts.Seed{Token: "second-token-0123456789"})
		if err != nil {
			t.Fatalf("EnsureAdmin(new token): %v", err)
		}
		if next.Created || !next.TokenAdded || next.Token != "" {
			t.Fatalf("got %+v, want the token added and nothing generated", next)
		}
		for _, tok := range []string{seed.Token, "second-token-0123456789"} {
			if u, err := svc.VerifyAPIToken(ctx, tok); err != nil || u.Email != "ops@example.com" {
				t.Fatalf("VerifyAPIToken(%q) = %+v, %v", tok, u, err)
			}
		}
		// The same token again is not stored twice.
		same, err := svc.EnsureAdmin(ctx, accounts.Seed{Token: "second-token-0123456789"})
		if err != nil || same.TokenAdded {
			t.Fatalf("EnsureAdmin(known token) = %+v, %v; want nothing added", same, err)
		}
	})
}

func TestVerifyAPITokenRejects(t *testing.T) {
	each(t, func(t *testing.T, svc *accounts.Service) {
		ctx := context.Background()
		if _, err := svc.EnsureAdmin(ctx, accounts.Seed{Token: "the-right-token-0123"}); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{"", "the-right-token-012", "the-right-token-01234", accounts.HashToken("the-right-token-0123")} {
			if _, err := svc.VerifyAPIToken(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
				t.Errorf("VerifyAPIToken(%q) = %v, want ErrInvalidToken", tok, err)
			}
		}
	})
}

func TestEnsureAdminStoresOnlyHashes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		got, err := accounts.New(db).EnsureAdmin(context.Background(), accounts.Seed{})
		if err != nil {
			t.Fatal(err)
		}
		var tokens []models.APIToken
		db.Find(&tokens)
		var users []models.User
		db.Find(&users)
		if len(tokens) != 1 || tokens[0].TokenHash != accounts.HashToken(got.Token) || strings.Contains(tokens[0].TokenHash, got.Token) {
			t.Fatalf("tokens = %+v, want one row holding only the hash", tokens)
		}
		if len(users) != 1 || strings.Contains(users[0].PasswordHash, got.Password) || !strings.HasPrefix(users[0].PasswordHash, "$2") {
			t.Fatalf("users = %+v, want one admin with a bcrypt hash", users)
		}
	})
}

func TestEnsureAdminConcurrentStarts(t *testing.T) {
	each(t, func(t *testing.T, svc *accounts.Service) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = svc.EnsureAdmin(context.Background(), accounts.Seed{Token: "shared-token-0123456789"})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}
		if _, err := svc.VerifyAPIToken(context.Background(), "shared-token-0123456789"); err != nil {
			t.Fatalf("VerifyAPIToken: %v", err)
		}
	})
}

func TestEnsureAdminValidatesSeed(t *testing.T) {
	svc := accounts.New(dbtest.SQLite(t))
	tests := []struct {
		seed  accounts.Seed
		field string
	}{
		{accounts.Seed{Email: "not-an-email"}, "DEVPORTAL_ADMIN_EMAIL"},
		{accounts.Seed{Password: "short"}, "DEVPORTAL_ADMIN_PASSWORD"},
		{accounts.Seed{Password: "onlyletterslong"}, "DEVPORTAL_ADMIN_PASSWORD"},
		{accounts.Seed{Token: "short"}, "DEVPORTAL_ADMIN_TOKEN"},
		{accounts.Seed{Token: "has a space in the middle"}, "DEVPORTAL_ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		_, err := svc.EnsureAdmin(context.Background(), tt.seed)
		var ve *apperr.ValidationError
		if !errors.As(err, &ve) || ve.Fields[tt.field] == "" {
			t.Errorf("EnsureAdmin(%+v) = %v, want a validation error on %s", tt.seed, err, tt.field)
		}
	}
}
