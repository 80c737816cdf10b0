package models

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsConcurrencyConflict(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("publish: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}), true},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation: gorm's ErrDuplicatedKey
		{errors.New("deadlock detected"), false},
		{nil, false},
	} {
		if got := IsConcurrencyConflict(c.err); got != c.want {
			t.Errorf("IsConcurrencyConflict(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
