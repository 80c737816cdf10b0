// Package dbtest gives each test a fresh, migrated database: a SQLite file in
// the test's temp dir, and, when DATABASE_URL names PostgreSQL, a schema of
// its own on that server, dropped when the test ends.
package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"devportal/models"
)

// SQLite opens a fresh migrated SQLite database.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := models.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// Postgres opens a fresh migrated schema on DATABASE_URL's server; ok is
// false when DATABASE_URL is not a PostgreSQL URL.
func Postgres(t testing.TB) (db *gorm.DB, ok bool) {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if !models.IsPostgres(base) {
		return nil, false
	}
	admin, err := models.Open(base)
	if err != nil {
		t.Fatalf("DATABASE_URL is set but PostgreSQL does not answer: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err = models.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Migrate(db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closeDB(db)
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		closeDB(admin)
	})
	return db, true
}

// Each runs f as a subtest on SQLite, and on PostgreSQL when DATABASE_URL is set.
func Each(t *testing.T, f func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	if models.IsPostgres(os.Getenv("DATABASE_URL")) {
		t.Run("postgres", func(t *testing.T) {
			db, _ := Postgres(t)
			f(t, db)
		})
	}
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// Name is a unique name for test data.
func Name(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%x", prefix, b)
}
