// Package testdb opens fresh, migrated databases for tests: a SQLite file in
// the test's temporary directory always, and PostgreSQL too when DATABASE_URL
// names a server. Each PostgreSQL database is a schema of its own, dropped
// when the test ends, so parallel test runs on one server never collide.
package testdb

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"devportal/internal/ids"
	"devportal/models"
)

// Kinds are the databases DB-backed tests run on: "sqlite", plus "postgres"
// when DATABASE_URL is set to a postgres:// URL.
func Kinds() []string {
	if models.IsPostgres(os.Getenv("DATABASE_URL")) {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Open returns a fresh migrated database of kind, closed (and for PostgreSQL
// dropped) when the test ends.
func Open(t testing.TB, kind string) *gorm.DB {
	t.Helper()
	var dsn string
	switch kind {
	case "sqlite":
		dsn = filepath.Join(t.TempDir(), "portal.db")
	case "postgres":
		dsn = postgresSchema(t, os.Getenv("DATABASE_URL"))
	default:
		t.Fatalf("testdb: unknown kind %q", kind)
	}
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", kind, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if err := models.Migrate(db); err != nil {
		t.Fatalf("testdb: migrate %s: %v", kind, err)
	}
	return db
}

// postgresSchema creates a schema named for this test run and returns base
// with its search_path set to it.
func postgresSchema(t testing.TB, base string) string {
	t.Helper()
	schema := "t_" + ids.New()
	admin, err := models.Open(base)
	if err != nil {
		t.Fatalf("testdb: open postgres: %v", err)
	}
	sqlAdmin, _ := admin.DB()
	if err := admin.Exec(fmt.Sprintf(`CREATE SCHEMA "%s"`, schema)).Error; err != nil {
		sqlAdmin.Close()
		t.Fatalf("testdb: create schema: %v", err)
	}
	t.Cleanup(func() {
		// Registered before the test database's own cleanup, so it runs after it.
		admin.Exec(fmt.Sprintf(`DROP SCHEMA IF EXISTS "%s" CASCADE`, schema))
		sqlAdmin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
