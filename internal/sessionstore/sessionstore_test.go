package sessionstore_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"gorm.io/gorm"

	"devportal/internal/dbtest"
	"devportal/internal/sessionstore"
	"devportal/models"
)

var _ fiber.Storage = (*sessionstore.Store)(nil)

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s := sessionstore.New(db, sessionstore.WithClock(func() time.Time { return now }))
		ctx := context.Background()
		if v, err := s.GetWithContext(ctx, "absent"); v != nil || err != nil {
			t.Fatalf("Get(absent) = %q, %v; want nil, nil", v, err)
		}
		if err := s.SetWithContext(ctx, "k1", []byte("one"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.SetWithContext(ctx, "k1", []byte("two"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Get("k1"); !bytes.Equal(v, []byte("two")) {
			t.Fatalf("Get(k1) = %q, want two", v)
		}
		// The key itself is never stored.
		var n int64
		db.Model(&models.Session{}).Where("id = ?", "k1").Count(&n)
		if n != 0 {
			t.Fatal("the session key is stored in clear")
		}
		now = now.Add(2 * time.Minute)
		if v, _ := s.Get("k1"); v != nil {
			t.Fatalf("expired Get(k1) = %q, want nil", v)
		}
		if err := s.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		db.Model(&models.Session{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d rows after sweep, want 0", n)
		}
		if err := s.Set("k2", []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete("k2"); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Get("k2"); v != nil {
			t.Fatal("deleted key still there")
		}
	})
}
