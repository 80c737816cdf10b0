package models

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsConcurrencyConflict tells whether err is PostgreSQL aborting a
// transaction because a concurrent one got in its way: a deadlock (40P01),
// as when two first publishes of a service insert the same unique rows in
// different orders, or a serialization failure (40001). Such a transaction
// wrote nothing; the change can be tried again.
func IsConcurrencyConflict(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}
