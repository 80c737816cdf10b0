// Package listing pages and searches lists the same way for every domain
// package: {"list": [...], "total": N}.
package listing

import (
	"strings"

	"gorm.io/gorm"
)

// Options page and filter a list.
type Options struct {
	Search string
	Offset int
	Limit  int // 0 means DefaultPageSize
}

// Page is a page of a list with the total count. Counting stops past
// MaxCount: a Total above MaxCount (MaxCount+1) means "more than MaxCount".
type Page[T any] struct {
	List  []T   `json:"list"`
	Total int64 `json:"total"`
}

// DefaultPageSize and MaxPageSize bound list pages.
const (
	DefaultPageSize = 20
	MaxPageSize     = 500
)

// MaxCount is where counting stops, so that a list of a million rows costs
// what a list of ten thousand does: totals are exact up to MaxCount. Deep
// offsets stay correct but cost their depth; the site's pages link no
// further than a count can name.
const MaxCount = 10_000

// Capped tells whether a total is a lower bound: more than MaxCount rows.
func Capped(total int64) bool { return total > MaxCount }

// Paginate counts q (up to MaxCount+1 rows) and loads one page of it, in
// order, into dest.
func Paginate(q *gorm.DB, o Options, order string, dest any) (int64, error) {
	total, err := Count(q)
	if err != nil {
		return 0, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	err = q.Order(order).Offset(max(o.Offset, 0)).Limit(limit).Find(dest).Error
	return total, err
}

// Count counts the rows q selects, stopping at MaxCount+1: it reads at most
// that many index entries however large the table.
func Count(q *gorm.DB) (int64, error) { return CountUpTo(q, MaxCount) }

// CountUpTo counts the rows q selects, stopping at most+1.
func CountUpTo(q *gorm.DB, most int) (int64, error) {
	var total int64
	sub := q.Session(&gorm.Session{}).Select("1").Limit(most + 1)
	err := q.Session(&gorm.Session{NewDB: true}).Table("(?) AS capped", sub).Count(&total).Error
	return total, err
}

// Like turns a search into a case-insensitive LIKE pattern (match it against
// LOWER(column)); LIKE's wildcards in the search are dropped.
func Like(search string) string {
	r := strings.NewReplacer(`\`, "", "%", "", "_", "")
	return "%" + strings.ToLower(r.Replace(strings.TrimSpace(search))) + "%"
}
