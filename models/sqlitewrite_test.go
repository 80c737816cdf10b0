package models

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"
)

// The write queue checkpoints the WAL itself, in the background, and resets
// it past walResetFrames: after 3,000 back-to-back transactions (which never
// leave a checkpoint beside them the time to copy the WAL whole) it is
// smaller than SQLite's own checkpoint, now a backstop at 10,000 pages,
// would have let it grow.
func TestWriteQueueCheckpointsTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	if err := db.AutoMigrate(&AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	q := db.ConnPool.(*writeQueue)
	body := fmt.Sprintf("%01000d", 0) // a row of ~1 KB: 3,000 of them are ~1,000 WAL pages at least
	for i := 0; i < 3000; i++ {
		err := db.Transaction(func(tx *gorm.DB) error {
			return tx.Create(&AuditEntry{Action: "test", Before: body, CreatedAt: time.Now()}).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The last checkpoint may still be running: wait for it, boundedly.
	for i := 0; i < 500 && q.checkpointing.Load(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := q.checkpoints.Load(); n < 10 {
		t.Fatalf("%d checkpoints after 3,000 commits, want one per %d", n, checkpointEvery)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > (walResetFrames+checkpointEvery*10)*4096 {
		t.Fatalf("WAL is %d bytes after background checkpoints", st.Size())
	}
	var count int64
	if err := db.Model(&AuditEntry{}).Count(&count).Error; err != nil || count != 3000 {
		t.Fatalf("%d rows (%v), want 3000", count, err)
	}
}
