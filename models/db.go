// Package models holds the gorm models and opens the database: SQLite by
// default (a file, WAL mode), PostgreSQL when the URL says postgres://.
package models

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open opens the database named by url: "postgres://..." (or "postgresql://")
// for PostgreSQL, anything else is a SQLite file path ("" means ./data/portal.db).
func Open(url string) (*gorm.DB, error) {
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Default.LogMode(logger.Silent),
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	if IsPostgres(url) {
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, fmt.Errorf("models: open postgres: %w", err)
		}
		// A bounded pool: a thousand concurrent requests queue for a
		// connection instead of opening a thousand, past the server's
		// max_connections (100 by default), and failing.
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("models: open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(PostgresMaxConns)
		sqlDB.SetMaxIdleConns(PostgresMaxConns)
		return db, nil
	}
	path := url
	if path == "" {
		path = filepath.Join("data", "portal.db")
	}
	path = strings.TrimPrefix(path, "sqlite://")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
	}
	// WAL lets readers run beside the one writer; immediate transactions take
	// the write lock up front so two writers queue on busy_timeout instead of
	// failing with "database is locked" when one upgrades a read lock. The
	// write queue checkpoints the WAL in the background (checkpointEvery);
	// SQLite's own checkpoint, inside a commit, is only a backstop.
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(" + sqliteBusyTimeoutMs + ")" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(10000)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("models: open sqlite: %w", err)
	}
	if err := queueWrites(db); err != nil {
		return nil, fmt.Errorf("models: open sqlite: %w", err)
	}
	return db, nil
}

// sqliteBusyTimeoutMs is how long a SQLite statement outside the write
// queue waits for the write lock, in milliseconds.
const sqliteBusyTimeoutMs = "15000"

// PostgresMaxConns bounds each process's PostgreSQL connections; replicas
// times this must stay under the server's max_connections.
const PostgresMaxConns = 40

// IsPostgres tells whether a database URL names PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Migrate creates or updates every table.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(All()...); err != nil {
		return err
	}
	// Indexes replaced by wider ones (models.Subscription's comment; lists'
	// orders: idx_service_templates_name_id, idx_published_group_name,
	// idx_history_service_time, idx_api_published_name).
	for _, old := range []string{"idx_sub_api_status", "idx_sub_status_created", "idx_subscriptions_app_id", "idx_subscriptions_org_id",
		"idx_service_templates_name", "idx_published_services_name", "idx_history_service", "idx_portal_apis_published"} {
		if err := db.Exec("DROP INDEX IF EXISTS " + old).Error; err != nil {
			return err
		}
	}
	// Indexes gorm's tags cannot say (a WHERE with commas).
	return db.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS idx_sub_active ON subscriptions (app_id, api_id)
		WHERE status IN ('pending', 'approved')`).Error
}

// All lists every model, in dependency order.
func All() []any {
	return []any{
		&User{}, &APIToken{},
		&GatewayGroup{}, &PluginTemplate{}, &ServiceTemplate{},
		&PublishedService{}, &PublishedRoute{}, &ServiceHistory{}, &DataPlaneNode{}, &OutboxEntry{},
		&Organization{}, &Membership{}, &Application{}, &APIKey{}, &AppGroup{},
		&PortalAPI{}, &Subscription{}, &AuditEntry{}, &Identity{}, &Invitation{}, &ClosedRoute{},
		&Session{},
	}
}
