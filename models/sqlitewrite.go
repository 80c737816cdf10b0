package models

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

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

	commits       atomic.Int64
	checkpointing atomic.Bool
	checkpoints   atomic.Int64 // done, for tests
}

var (
	_ gorm.ConnPoolBeginner = (*writeQueue)(nil)
	_ gorm.GetDBConnector   = (*writeQueue)(nil)
)

// checkpointEvery is how many transactions commit between the WAL
// checkpoints the queue runs in the background. SQLite's own automatic
// checkpoint runs inside the COMMIT that crosses its threshold, copying the
// WAL into the database file and syncing it on that request's time: 5–15 ms
// on the benchmark machine, the p99 of an approval (BENCHMARKS.md,
// propagation). A goroutine does it beside the writers instead; SQLite's is
// kept at 10,000 pages (models.Open) as a backstop for writes made outside
// the queue.
const checkpointEvery = 100

// walResetFrames is the WAL size (in pages) from which a background
// checkpoint also resets it. A checkpoint beside the writers never copies a
// WAL that they keep appending to whole, and only a wholly copied WAL starts
// over; under a steady stream of writes it would grow for ever.
const walResetFrames = 4000

// committed counts a commit and, every checkpointEvery, starts a
// checkpoint unless one is running.
func (q *writeQueue) committed() {
	if q.commits.Add(1)%checkpointEvery != 0 || !q.checkpointing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer q.checkpointing.Store(false)
		q.checkpoint()
	}()
}

// checkpoint copies what it can of the WAL into the database without
// waiting for anyone (PASSIVE). When the WAL has grown past walResetFrames
// it then takes the writers' turn, copies the rest and truncates it; it
// waits at most 100 ms for readers of old pages, and leaves the WAL for the
// next time if they are still there.
func (q *writeQueue) checkpoint() {
	var busy, frames, copied int
	if err := q.DB.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return
	}
	q.checkpoints.Add(1)
	if frames < walResetFrames {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := q.DB.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-q.turn }()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 100"); err != nil {
		return
	}
	conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	conn.ExecContext(context.Background(), "PRAGMA busy_timeout = "+sqliteBusyTimeoutMs) // whatever ctx has become
}

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
	return &queuedTx{Tx: tx, q: q}, nil
}

// GetDBConn lets gorm's DB() find the pool.
func (q *writeQueue) GetDBConn() (*sql.DB, error) { return q.DB, nil }

// queuedTx gives the turn back when it ends.
type queuedTx struct {
	*sql.Tx
	q    *writeQueue
	once sync.Once
}

// done gives the turn back, once.
func (t *queuedTx) done() { t.once.Do(func() { <-t.q.turn }) }

var _ gorm.TxCommitter = (*queuedTx)(nil)

func (t *queuedTx) Commit() error {
	err := t.Tx.Commit()
	t.done()
	if err == nil {
		t.q.committed()
	}
	return err
}

func (t *queuedTx) Rollback() error {
	err := t.Tx.Rollback()
	t.done()
	return err
}

// GetDBConn lets gorm's DB() work inside a transaction.
func (t *queuedTx) GetDBConn() (*sql.DB, error) { return t.q.DB, nil }

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
