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

// Page is a page of a list with the total count.
type Page[T any] struct {
	List  []T   `json:"list"`
	Total int64 `json:"total"`
}

// DefaultPageSize and MaxPageSize bound list pages.
const (
	DefaultPageSize = 20
	MaxPageSize     = 500
)

// Paginate counts q and loads one page of it, in order, into dest.
func Paginate(q *gorm.DB, o Options, order string, dest any) (int64, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return 0, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	err := q.Order(order).Offset(max(o.Offset, 0)).Limit(limit).Find(dest).Error
	return total, err
}

// Like turns a search into a case-insensitive LIKE pattern (match it against
// LOWER(column)); LIKE's wildcards in the search are dropped.
func Like(search string) string {
	r := strings.NewReplacer(`\`, "", "%", "", "_", "")
	return "%" + strings.ToLower(r.Replace(strings.TrimSpace(search))) + "%"
}
