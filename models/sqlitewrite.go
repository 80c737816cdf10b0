package models

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// writeQueue makes SQLite's transactions take turns in the process, in
// order, instead of polling for the file's write lock: with a thousand
// approvals at once, busy_timeout's sleep-and-retry let a queue of writers
// time out ("database is locked") once each transaction cost more than
// busy_timeout / writers. Waiting here ends only with the request's context.
// Statements outside a transaction still queue on busy_timeout.
type writeQueue struct {
	*sql.DB
	turn chan struct{}
}

var (
	_ gorm.ConnPoolBeginner = (*writeQueue)(nil)
	_ gorm.GetDBConnector   = (*writeQueue)(nil)
)

// BeginTx waits for the turn, then begins (BEGIN IMMEDIATE).
func (q *writeQueue) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tx, err := q.DB.BeginTx(ctx, opts)
	if err != nil {
		<-q.turn
		return nil, err
	}
	return &queuedTx{Tx: tx, db: q.DB, done: func() { <-q.turn }}, nil
}

// GetDBConn lets gorm's DB() find the pool.
func (q *writeQueue) GetDBConn() (*sql.DB, error) { return q.DB, nil }

// queuedTx gives the turn back when it ends.
type queuedTx struct {
	*sql.Tx
	db   *sql.DB
	once sync.Once
	done func()
}

var _ gorm.TxCommitter = (*queuedTx)(nil)

func (t *queuedTx) Commit() error {
	err := t.Tx.Commit()
	t.once.Do(t.done)
	return err
}

func (t *queuedTx) Rollback() error {
	err := t.Tx.Rollback()
	t.once.Do(t.done)
	return err
}

// GetDBConn lets gorm's DB() work inside a transaction.
func (t *queuedTx) GetDBConn() (*sql.DB, error) { return t.db, nil }

// queueWrites puts db's transactions in a writeQueue.
func queueWrites(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	q := &writeQueue{DB: sqlDB, turn: make(chan struct{}, 1)}
	db.ConnPool = q
	db.Statement.ConnPool = q
	return nil
}
