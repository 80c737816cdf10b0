// Package listing pages and searches lists the same way for every domain
// package: {"list": [...], "total": N, "next": "<cursor>"}.
package listing

import (
	"strings"

	"gorm.io/gorm"
)

// Options page and filter a list: by Offset, or after a cursor (After, the
// Next of the previous page), which costs the same however deep the page.
// After wins over Offset.
type Options struct {
	Search string
	Offset int
	Limit  int    // 0 means DefaultPageSize
	After  string // a cursor: the previous page's Next
}

// Page is a page of a list with the total count. Counting stops past
// MaxCount: a Total above MaxCount (MaxCount+1) means "more than MaxCount".
// Next, when not empty, is the cursor of the following page (Options.After).
type Page[T any] struct {
	List  []T    `json:"list"`
	Total int64  `json:"total"`
	Next  string `json:"next,omitempty"`
}

// Map converts a page's rows, keeping its total and cursor.
func Map[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{List: make([]U, len(p.List)), Total: p.Total, Next: p.Next}
	for i, r := range p.List {
		out.List[i] = f(r)
	}
	return out
}

// DefaultPageSize and MaxPageSize bound list pages.
const (
	DefaultPageSize = 20
	MaxPageSize     = 500
)

// MaxCount is where counting stops, so that a list of a million rows costs
// what a list of ten thousand does: totals are exact up to MaxCount. Deep
// offsets stay correct but cost their depth; a cursor (Options.After) costs
// what the first page does.
const MaxCount = 10_000

// Capped tells whether a total is a lower bound: more than MaxCount rows.
func Capped(total int64) bool { return total > MaxCount }

// Paginate counts q (up to MaxCount+1 rows) and loads one page of it in
// order's order: at o.Offset, or after the cursor o.After. It reads one row
// more than the page to know whether a next page exists, and then sets Next
// to the cursor of the page's last row. A cursor that is not one of order's
// answers an apperr.ValidationError on "after": "invalid cursor".
func Paginate[T any](q *gorm.DB, o Options, order Order[T]) (Page[T], error) {
	var after []any
	if o.After != "" {
		var err error
		if after, err = order.decode(o.After); err != nil {
			return Page[T]{}, err
		}
	}
	total, err := Count(q)
	if err != nil {
		return Page[T]{}, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	page := q.Order(order.orderBy())
	if after != nil {
		sql, args := order.after(after)
		page = page.Where(sql, args...)
	} else {
		page = page.Offset(max(o.Offset, 0))
	}
	var rows []T
	if err := page.Limit(limit + 1).Find(&rows).Error; err != nil {
		return Page[T]{}, err
	}
	out := Page[T]{List: rows, Total: total}
	if len(rows) > limit {
		out.List = rows[:limit]
		if out.Next, err = order.encode(&out.List[limit-1]); err != nil {
			return Page[T]{}, err
		}
	}
	if out.List == nil {
		out.List = []T{}
	}
	return out, nil
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
