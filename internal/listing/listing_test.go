package listing_test

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"devportal/internal/dbtest"
	"devportal/internal/listing"
	"devportal/models"
)

func TestPaginateCountsUpToMaxCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		rows := make([]models.AuditEntry, listing.MaxCount+5)
		for i := range rows {
			rows[i] = models.AuditEntry{Action: fmt.Sprintf("a%d", i%2), CreatedAt: time.Unix(int64(i), 0)}
		}
		if err := db.CreateInBatches(rows, 1000).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			where  string
			total  int64
			capped bool
		}{
			{"1 = 1", listing.MaxCount + 1, true},
			{"action = 'a1'", int64(len(rows) / 2), false},
			{"action = 'none'", 0, false},
		} {
			var page []models.AuditEntry
			total, err := listing.Paginate(db.Model(&models.AuditEntry{}).Where(c.where), listing.Options{Offset: listing.MaxCount + 1, Limit: 3}, "created_at DESC, id DESC", &page)
			if err != nil {
				t.Fatal(err)
			}
			if total != c.total || listing.Capped(total) != c.capped {
				t.Errorf("%s: total %d (capped %v), want %d (%v)", c.where, total, listing.Capped(total), c.total, c.capped)
			}
			// An offset past MaxCount still reads its page.
			if c.capped && len(page) != 3 {
				t.Errorf("%s: an offset past MaxCount read %d rows, want 3", c.where, len(page))
			}
		}
	})
}
