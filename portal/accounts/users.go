package accounts

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/models"
)

// UserInput creates an account. Password may be empty for an account that
// signs in only through an identity provider.
type UserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

// MaxPasswordLength is bcrypt's limit.
const MaxPasswordLength = 72

// ValidateUser checks and normalizes the input, field by field.
func ValidateUser(in *UserInput) error {
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Name = strings.TrimSpace(in.Name)
	var v apperr.Validator
	a, err := mail.ParseAddress(in.Email)
	v.Check(in.Email != "", "email", "is required")
	v.Check(in.Email == "" || err == nil && a.Address == in.Email && len(in.Email) <= 254, "email", "is not an e-mail address")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	if in.Password != "" {
		if msg := PasswordProblem(in.Password); msg != "" {
			v.Add("password", "%s", msg)
		}
	}
	return v.Err()
}

// PasswordProblem says what is wrong with a new password, or "".
func PasswordProblem(p string) string {
	if len(p) < MinPasswordLength {
		return "must be at least 8 characters"
	}
	if len(p) > MaxPasswordLength {
		return "must be at most 72 bytes"
	}
	var letter, other bool
	for _, r := range p {
		if unicode.IsLetter(r) {
			letter = true
		} else {
			other = true
		}
	}
	if !letter || !other {
		return "must mix letters with digits or symbols"
	}
	return ""
}

// CreateUser adds an account inside tx (nil: its own). A taken e-mail is a
// validation error on the email field, so a form can show it beside the field.
func (s *Service) CreateUser(ctx context.Context, tx *gorm.DB, in UserInput) (models.User, error) {
	if tx == nil {
		tx = s.db
	}
	if err := ValidateUser(&in); err != nil {
		return models.User{}, err
	}
	u := models.User{ID: ids.New(), Email: in.Email, Name: in.Name}
	if in.Password != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
		if err != nil {
			return models.User{}, err
		}
		u.PasswordHash = string(h)
	}
	var n int64
	if err := tx.WithContext(ctx).Model(&models.User{}).Where("email = ?", in.Email).Count(&n).Error; err != nil {
		return models.User{}, err
	}
	if n > 0 {
		return models.User{}, apperr.Invalid("email", "is already registered")
	}
	if err := tx.WithContext(ctx).Create(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return models.User{}, apperr.Invalid("email", "is already registered")
		}
		return models.User{}, err
	}
	return u, nil
}

// UserByEmail finds an account by e-mail (ErrNotFound when none).
func (s *Service) UserByEmail(ctx context.Context, tx *gorm.DB, email string) (models.User, error) {
	if tx == nil {
		tx = s.db
	}
	var u models.User
	err := tx.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, apperr.NotFound("user", email)
	}
	return u, err
}

// UserByID finds an account (ErrNotFound when none).
func (s *Service) UserByID(ctx context.Context, id string) (models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).First(&u, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, apperr.NotFound("user", id)
	}
	return u, err
}
