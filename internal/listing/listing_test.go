package listing_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/internal/listing"
	"devportal/models"
)

// newestFirst is the audit log's order: created_at DESC, id DESC.
var newestFirst = listing.By(func(e *models.AuditEntry) []any { return []any{e.CreatedAt, e.ID} },
	listing.Desc("created_at"), listing.Desc("id"))

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
			page, err := listing.Paginate(db.Model(&models.AuditEntry{}).Where(c.where), listing.Options{Offset: listing.MaxCount + 1, Limit: 3}, newestFirst)
			if err != nil {
				t.Fatal(err)
			}
			if total := page.Total; total != c.total || listing.Capped(total) != c.capped {
				t.Errorf("%s: total %d (capped %v), want %d (%v)", c.where, total, listing.Capped(total), c.total, c.capped)
			}
			// An offset past MaxCount still reads its page.
			if c.capped && len(page.List) != 3 {
				t.Errorf("%s: an offset past MaxCount read %d rows, want 3", c.where, len(page.List))
			}
		}
	})
}

// walk pages through q by cursor and returns the rows' keys in order.
func walk[T any](t *testing.T, q func() *gorm.DB, order listing.Order[T], limit int, key func(T) string) []string {
	t.Helper()
	var got []string
	o := listing.Options{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		page, err := listing.Paginate(q(), o, order)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.List {
			got = append(got, key(r))
		}
		if page.Next == "" {
			if len(page.List) > limit {
				t.Fatalf("a page of %d rows, limit %d", len(page.List), limit)
			}
			return got
		}
		if len(page.List) != limit {
			t.Fatalf("a page with a next cursor has %d rows, want %d", len(page.List), limit)
		}
		o = listing.Options{Limit: limit, After: page.Next}
	}
}

// byOffset pages through q by offset, as lists did before cursors.
func byOffset[T any](t *testing.T, q func() *gorm.DB, order listing.Order[T], limit int, key func(T) string) []string {
	t.Helper()
	var got []string
	for off := 0; ; off += limit {
		page, err := listing.Paginate(q(), listing.Options{Offset: off, Limit: limit}, order)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.List {
			got = append(got, key(r))
		}
		if (page.Next == "") != (len(page.List) < limit || off+limit >= int(page.Total)) {
			t.Fatalf("offset %d: next %q with %d rows of %d", off, page.Next, len(page.List), page.Total)
		}
		if page.Next == "" {
			return got
		}
	}
}

// TestKeysetWalksEveryRowOnce: a walk by cursor returns every row once, in
// the order of a walk by offset, also where many rows share a sort value.
func TestKeysetWalksEveryRowOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		// 250 audit entries, seven to a timestamp (with nanoseconds), newest first.
		base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		entries := make([]models.AuditEntry, 250)
		for i := range entries {
			entries[i] = models.AuditEntry{Action: fmt.Sprintf("a%d", i%3), CreatedAt: base.Add(time.Duration(i/7) * 1_234_567_891)}
		}
		// And 250 service templates, ten to a name, by name then ID.
		templates := make([]models.ServiceTemplate, 250)
		for i := range templates {
			templates[i] = models.ServiceTemplate{ID: fmt.Sprintf("t%03d", (i*97)%250), Name: fmt.Sprintf("svc %02d", i%25), Type: "http"}
		}
		if err := db.Create(&entries).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&templates).Error; err != nil {
			t.Fatal(err)
		}
		auditKey := func(e models.AuditEntry) string { return fmt.Sprint(e.ID) }
		byName := listing.By(func(t *models.ServiceTemplate) []any { return []any{t.Name, t.ID} }, listing.Asc("name"), listing.Asc("id"))
		// Mixed directions: name ascending, then ID descending.
		byNameIDDown := listing.By(func(t *models.ServiceTemplate) []any { return []any{t.Name, t.ID} }, listing.Asc("name"), listing.Desc("id"))
		nameIDDownSorted := func(keys []string) bool {
			return slices.IsSortedFunc(keys, func(a, b string) int {
				an, aid, _ := strings.Cut(a, "/")
				bn, bid, _ := strings.Cut(b, "/")
				if c := strings.Compare(an, bn); c != 0 {
					return c
				}
				return strings.Compare(bid, aid)
			})
		}
		tplKey := func(t models.ServiceTemplate) string { return t.Name + "/" + t.ID }
		for _, c := range []struct {
			name       string
			cursor     func(limit int) []string
			offset     func(limit int) []string
			rows       int
			wantSorted func([]string) bool
		}{
			{"audit newest first", func(l int) []string {
				return walk(t, func() *gorm.DB { return db.Model(&models.AuditEntry{}) }, newestFirst, l, auditKey)
			}, func(l int) []string {
				return byOffset(t, func() *gorm.DB { return db.Model(&models.AuditEntry{}) }, newestFirst, l, auditKey)
			}, 250, nil},
			{"audit filtered", func(l int) []string {
				return walk(t, func() *gorm.DB { return db.Model(&models.AuditEntry{}).Where("action = ? OR action = ?", "a1", "a2") }, newestFirst, l, auditKey)
			}, func(l int) []string {
				return byOffset(t, func() *gorm.DB { return db.Model(&models.AuditEntry{}).Where("action = ? OR action = ?", "a1", "a2") }, newestFirst, l, auditKey)
			}, 166, nil},
			{"templates by name, id", func(l int) []string {
				return walk(t, func() *gorm.DB { return db.Model(&models.ServiceTemplate{}) }, byName, l, tplKey)
			}, func(l int) []string {
				return byOffset(t, func() *gorm.DB { return db.Model(&models.ServiceTemplate{}) }, byName, l, tplKey)
			}, 250, slices.IsSorted[[]string]},
			{"templates by name, ID descending", func(l int) []string {
				return walk(t, func() *gorm.DB { return db.Model(&models.ServiceTemplate{}) }, byNameIDDown, l, tplKey)
			}, func(l int) []string {
				return byOffset(t, func() *gorm.DB { return db.Model(&models.ServiceTemplate{}) }, byNameIDDown, l, tplKey)
			}, 250, nameIDDownSorted},
			{"templates searched", func(l int) []string {
				return walk(t, func() *gorm.DB {
					return db.Model(&models.ServiceTemplate{}).Where("name = ? OR name = ?", "svc 03", "svc 17")
				}, byName, l, tplKey)
			}, func(l int) []string {
				return byOffset(t, func() *gorm.DB {
					return db.Model(&models.ServiceTemplate{}).Where("name = ? OR name = ?", "svc 03", "svc 17")
				}, byName, l, tplKey)
			}, 20, slices.IsSorted[[]string]},
		} {
			for _, limit := range []int{20, 7, 1, 250, 500} {
				got, want := c.cursor(limit), c.offset(limit)
				if len(got) != c.rows || !slices.Equal(got, want) {
					t.Fatalf("%s, limit %d: by cursor %d rows %v\nby offset %d rows %v", c.name, limit, len(got), got, len(want), want)
				}
				seen := map[string]bool{}
				for _, k := range got {
					if seen[k] {
						t.Fatalf("%s, limit %d: %s twice", c.name, limit, k)
					}
					seen[k] = true
				}
				if c.wantSorted != nil && !c.wantSorted(got) {
					t.Fatalf("%s, limit %d: out of order: %v", c.name, limit, got)
				}
			}
		}
		// Newest first really is by time, then ID, both descending.
		var all []models.AuditEntry
		page, err := listing.Paginate(db.Model(&models.AuditEntry{}), listing.Options{Limit: 500}, newestFirst)
		if err != nil {
			t.Fatal(err)
		}
		all = page.List
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
				t.Fatalf("rows %d and %d out of order: %+v %+v", i-1, i, a, b)
			}
		}
	})
}

func TestMalformedCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		wantInvalid := func(cursor string, err error) {
			t.Helper()
			var v *apperr.ValidationError
			if !errors.As(err, &v) || v.Fields["after"] != "invalid cursor" {
				t.Errorf("cursor %q: %v, want invalid cursor on after", cursor, err)
			}
		}
		for _, cursor := range []string{
			"!!!", "not base64 ~", enc("{}"), enc(`"x"`), enc("[]"), enc(`["2026-11-23T12:00:00Z"]`),
			enc(`["2026-11-23T12:00:00Z",1,2]`), enc(`[5,1]`), enc(`["yesterday",1]`), enc(`["2026-11-23T12:00:00Z","one"]`),
			enc(`[null,1]`), enc(`["2026-11-23T12:00:00Z",1`),
		} {
			_, err := listing.Paginate(db.Model(&models.AuditEntry{}), listing.Options{After: cursor}, newestFirst)
			wantInvalid(cursor, err)
		}
		// A NUL in a text value (PostgreSQL would refuse it with an error).
		byName := listing.By(func(t *models.ServiceTemplate) []any { return []any{t.Name, t.ID} }, listing.Asc("name"), listing.Asc("id"))
		for _, cursor := range []string{enc(`["a\u0000","b"]`), enc(`["a","\u0000"]`)} {
			_, err := listing.Paginate(db.Model(&models.ServiceTemplate{}), listing.Options{After: cursor}, byName)
			wantInvalid(cursor, err)
		}
		// A well-formed cursor past the end is an empty last page.
		page, err := listing.Paginate(db.Model(&models.AuditEntry{}), listing.Options{After: enc(`["2026-11-23T12:00:00Z",1]`)}, newestFirst)
		if err != nil || len(page.List) != 0 || page.Next != "" || page.List == nil {
			t.Fatalf("cursor past the end: %+v, %v", page, err)
		}
	})
}
