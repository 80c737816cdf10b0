// Package accounts holds the site's user accounts and the Admin API tokens:
// seeding the first admin and verifying X-API-KEY tokens. It knows no HTTP.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/models"
	"devportal/portal/secrets"
)

// ErrInvalidToken is returned for a missing, unknown or orphaned API token.
var ErrInvalidToken = errors.New("accounts: invalid API token")

// DefaultAdminEmail is the admin's sign-in when none is seeded.
const DefaultAdminEmail = "admin@localhost"

// MinTokenLength is the shortest API token accepted from the environment.
const MinTokenLength = 16

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// Service manages accounts on the database.
type Service struct {
	db  *gorm.DB
	now func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New builds the service on a migrated database.
func New(db *gorm.DB, opts ...Option) *Service {
	s := &Service{db: db, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Seed is what the environment says about the first admin; empty fields are
// generated on first start.
type Seed struct {
	Email    string
	Password string
	Token    string
}

// Seeded reports what EnsureAdmin did. Password and Token are set only when
// they were generated, so the caller can show them once; they are stored
// nowhere in clear.
type Seeded struct {
	// Created is true when the admin account was created by this call.
	Created bool
	// TokenAdded is true when an API token was stored by this call.
	TokenAdded bool
	// Email is the admin's sign-in when the account was created.
	Email string
	// Password is the generated password ("" when it came from the seed).
	Password string
	// Token is the generated API token ("" when it came from the seed).
	Token string
}

// EnsureAdmin creates the first admin and its API token when no admin exists
// (from seed, generating what it lacks). When an admin exists it only adds
// seed.Token if that token is not known yet, for the admin named by
// seed.Email or else the oldest admin. It is safe to run from several
// replicas at once.
func (s *Service) EnsureAdmin(ctx context.Context, seed Seed) (Seeded, error) {
	if err := validateSeed(seed); err != nil {
		return Seeded{}, err
	}
	var out Seeded
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		out, err = s.ensureAdmin(ctx, seed)
		// A replica starting at the same time may have won the race on the
		// unique e-mail or token hash: look again, it is now an existing admin.
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			break
		}
	}
	return out, err
}

func (s *Service) ensureAdmin(ctx context.Context, seed Seed) (Seeded, error) {
	var out Seeded
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var admin models.User
		err := tx.Where("is_admin = ?", true).Order("created_at, id").First(&admin).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return s.createAdmin(tx, seed, &out)
		case err != nil:
			return fmt.Errorf("accounts: find admin: %w", err)
		}
		if seed.Token == "" {
			return nil
		}
		var n int64
		if err := tx.Model(&models.APIToken{}).Where("token_hash = ?", HashToken(seed.Token)).Count(&n).Error; err != nil {
			return fmt.Errorf("accounts: find token: %w", err)
		}
		if n > 0 {
			return nil
		}
		if seed.Email != "" {
			var named models.User
			err := tx.Where("email = ? AND is_admin = ?", strings.ToLower(seed.Email), true).First(&named).Error
			if err == nil {
				admin = named
			} else if !errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("accounts: find admin: %w", err)
			}
		}
		if err := tx.Create(s.newToken(admin.ID, "from DEVPORTAL_ADMIN_TOKEN", seed.Token)).Error; err != nil {
			return fmt.Errorf("accounts: add token: %w", err)
		}
		out.TokenAdded = true
		return nil
	})
	if err != nil {
		return Seeded{}, err
	}
	return out, nil
}

func (s *Service) createAdmin(tx *gorm.DB, seed Seed, out *Seeded) error {
	email := strings.ToLower(seed.Email)
	if email == "" {
		email = DefaultAdminEmail
	}
	password := seed.Password
	if password == "" {
		password = newPassword()
		out.Password = password
	}
	token := seed.Token
	tokenName := "from DEVPORTAL_ADMIN_TOKEN"
	if token == "" {
		token = NewToken()
		out.Token = token
		tokenName = "generated at first start"
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("accounts: hash password: %w", err)
	}
	now := s.now()
	user := models.User{
		ID: ids.New(), Email: email, Name: "Administrator", PasswordHash: string(hash),
		IsAdmin: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Create(&user).Error; err != nil {
		return fmt.Errorf("accounts: create admin: %w", err)
	}
	if err := tx.Create(s.newToken(user.ID, tokenName, token)).Error; err != nil {
		return fmt.Errorf("accounts: create token: %w", err)
	}
	out.Created, out.TokenAdded, out.Email = true, true, email
	return nil
}

func (s *Service) newToken(userID, name, token string) *models.APIToken {
	return &models.APIToken{
		ID: ids.New(), Name: name, TokenHash: HashToken(token), UserID: userID, CreatedAt: s.now(),
	}
}

// VerifyAPIToken returns the user owning token, or ErrInvalidToken.
func (s *Service) VerifyAPIToken(ctx context.Context, token string) (models.User, error) {
	if token == "" {
		return models.User{}, ErrInvalidToken
	}
	sum := HashToken(token)
	var row models.APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ?", sum).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.User{}, apperr.Unavailable("database", err)
	}
	// The lookup was by hash; compare again in constant time so nothing
	// about the stored value depends on how the database compared it.
	if subtle.ConstantTimeCompare([]byte(row.TokenHash), []byte(sum)) != 1 {
		return models.User{}, ErrInvalidToken
	}
	var user models.User
	err = s.db.WithContext(ctx).Where("id = ?", row.UserID).First(&user).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, ErrInvalidToken
	}
	if err != nil {
		return models.User{}, apperr.Unavailable("database", err)
	}
	return user, nil
}

// CheckPassword returns the user with email when password matches, or
// apperr.ErrNotFound (the same for an unknown e-mail and a wrong password).
func (s *Service) CheckPassword(ctx context.Context, email, password string) (models.User, error) {
	var user models.User
	err := s.db.WithContext(ctx).Where("email = ?", strings.ToLower(email)).First(&user).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, apperr.Unavailable("database", err)
	}
	hash := user.PasswordHash
	if hash == "" {
		// Spend the same time on unknown accounts as on known ones.
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || user.ID == "" {
		return models.User{}, fmt.Errorf("accounts: e-mail or password: %w", apperr.ErrNotFound)
	}
	return user, nil
}

var dummyHash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)
	return string(h)
}()

// HashToken is how tokens are stored: hex SHA-256, as API keys are.
func HashToken(token string) string { return secrets.HashKey(token) }

// NewToken generates an API token: "dpt_" and 32 random bytes, base64url.
func NewToken() string { return "dpt_" + randomString(32) }

// newPassword generates a password that PasswordProblem accepts.
func newPassword() string {
	for {
		if p := randomString(18); PasswordProblem(p) == "" {
			return p
		}
	}
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func validateSeed(seed Seed) error {
	var v apperr.Validator
	if seed.Email != "" {
		a, err := mail.ParseAddress(seed.Email)
		v.Check(err == nil && a.Address == seed.Email, "DEVPORTAL_ADMIN_EMAIL", "not an e-mail address")
	}
	if seed.Password != "" {
		if msg := PasswordProblem(seed.Password); msg != "" {
			v.Add("DEVPORTAL_ADMIN_PASSWORD", "%s", msg)
		}
	}
	v.Check(seed.Token == "" || len(seed.Token) >= MinTokenLength,
		"DEVPORTAL_ADMIN_TOKEN", "at least %d characters", MinTokenLength)
	v.Check(!strings.ContainsAny(seed.Token, " \t\r\n"), "DEVPORTAL_ADMIN_TOKEN", "must not contain white space")
	return v.Err()
}
