package seed

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"devportal/models"
)

// subscriptionColumns are the columns bulkSubscriptions writes, in order.
var subscriptionColumns = []string{"id", "app_id", "api_id", "org_id", "status", "reason", "requested_by_id",
	"decided_by_id", "decided_at", "created_at", "updated_at"}

func subscriptionValues(r *models.Subscription) []any {
	var decided any
	if r.DecidedAt != nil {
		decided = *r.DecidedAt
	}
	return []any{r.ID, r.AppID, r.APIID, r.OrgID, r.Status, r.Reason, r.RequestedByID, r.DecidedByID, decided, r.CreatedAt, r.UpdatedAt}
}

// bulkSubscriptions writes the million subscriptions without gorm's
// per-row reflection: PostgreSQL through COPY, SQLite through one prepared
// INSERT of 500 rows reused in each transaction of cfg.Batch rows.
func (s *seeder) bulkSubscriptions(ctx context.Context, rows []models.Subscription) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	t0 := time.Now()
	progress := func(done int) {
		el := time.Since(t0)
		fmt.Fprintf(s.out, "seed:   subscriptions %d/%d (%.0f%%, %s, %.0f rows/s)\n", done, len(rows),
			100*float64(done)/float64(len(rows)), el.Round(time.Second), float64(done)/el.Seconds())
	}
	for lo := 0; lo < len(rows); lo += s.cfg.Batch {
		hi := min(lo+s.cfg.Batch, len(rows))
		if s.db.Dialector.Name() == "postgres" {
			err = copySubscriptions(ctx, sqlDB, rows[lo:hi])
		} else {
			err = insertSubscriptions(ctx, sqlDB, rows[lo:hi])
		}
		if err != nil {
			return fmt.Errorf("subscriptions: %w", err)
		}
		progress(hi)
	}
	return nil
}

func copySubscriptions(ctx context.Context, sqlDB *sql.DB, rows []models.Subscription) error {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return subscriptionValues(&rows[i]), nil })
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"subscriptions"}, subscriptionColumns, src); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

const sqliteRowsPerInsert = 500 // 500 × 11 parameters, under SQLite's 32,766

func insertSubscriptions(ctx context.Context, sqlDB *sql.DB, rows []models.Subscription) error {
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(subscriptionColumns)), ",") + ")"
	head := "INSERT INTO subscriptions (" + strings.Join(subscriptionColumns, ",") + ") VALUES "
	full, err := tx.PrepareContext(ctx, head+strings.TrimSuffix(strings.Repeat(one+",", sqliteRowsPerInsert), ","))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, sqliteRowsPerInsert*len(subscriptionColumns))
	for lo := 0; lo < len(rows); lo += sqliteRowsPerInsert {
		hi := min(lo+sqliteRowsPerInsert, len(rows))
		args = args[:0]
		for i := lo; i < hi; i++ {
			args = append(args, subscriptionValues(&rows[i])...)
		}
		if hi-lo == sqliteRowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(one+",", hi-lo), ","), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}
