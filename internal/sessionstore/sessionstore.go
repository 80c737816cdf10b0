// Package sessionstore keeps the site's web sessions in the database, as a
// fiber.Storage, so that every control plane replica sees the same sessions.
// Keys are stored as their SHA-256 hash: the table never holds a usable
// session cookie value.
package sessionstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"devportal/models"
)

// Store is a fiber.Storage on the sessions table.
type Store struct {
	db  *gorm.DB
	now func() time.Time
	// sweepEvery: one Set in sweepEvery also deletes expired rows.
	sweepEvery int
}

// Option configures a Store.
type Option func(*Store)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New builds a store on db (the models.Session table must exist).
func New(db *gorm.DB, opts ...Option) *Store {
	s := &Store{db: db, now: func() time.Time { return time.Now().UTC() }, sweepEvery: 200}
	for _, o := range opts {
		o(s)
	}
	return s
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// GetWithContext returns the value of key, or nil, nil when it is absent or expired.
func (s *Store) GetWithContext(ctx context.Context, key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	var row models.Session
	err := s.db.WithContext(ctx).Where("id = ?", hashKey(key)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !row.ExpiresAt.IsZero() && !row.ExpiresAt.After(s.now()) {
		return nil, nil
	}
	return row.Data, nil
}

// Get is GetWithContext without a context.
func (s *Store) Get(key string) ([]byte, error) {
	return s.GetWithContext(context.Background(), key)
}

// SetWithContext stores val under key for exp (0: no expiry). Empty keys or
// values are ignored.
func (s *Store) SetWithContext(ctx context.Context, key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	now := s.now()
	row := models.Session{ID: hashKey(key), Data: append([]byte(nil), val...), UpdatedAt: now}
	if exp > 0 {
		row.ExpiresAt = now.Add(exp)
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expires_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return err
	}
	if s.sweepEvery > 0 && rand.IntN(s.sweepEvery) == 0 {
		_ = s.Sweep(ctx)
	}
	return nil
}

// Set is SetWithContext without a context.
func (s *Store) Set(key string, val []byte, exp time.Duration) error {
	return s.SetWithContext(context.Background(), key, val, exp)
}

// DeleteWithContext deletes key; an absent key is no error.
func (s *Store) DeleteWithContext(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	return s.db.WithContext(ctx).Where("id = ?", hashKey(key)).Delete(&models.Session{}).Error
}

// Delete is DeleteWithContext without a context.
func (s *Store) Delete(key string) error { return s.DeleteWithContext(context.Background(), key) }

// ResetWithContext deletes every session.
func (s *Store) ResetWithContext(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("1 = 1").Delete(&models.Session{}).Error
}

// Reset is ResetWithContext without a context.
func (s *Store) Reset() error { return s.ResetWithContext(context.Background()) }

// Close does nothing: the database belongs to the caller.
func (s *Store) Close() error { return nil }

// Sweep deletes expired sessions.
func (s *Store) Sweep(ctx context.Context) error {
	return s.db.WithContext(ctx).
		Where("expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ?", time.Time{}, s.now()).
		Delete(&models.Session{}).Error
}
