package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/internal/listing"
)

// Paging bounds of list endpoints: the domain's own.
const (
	defaultPageSize = listing.DefaultPageSize
	maxPageSize     = listing.MaxPageSize
)

// listResponse documents the shape of every list: {"list": [...], "total": N},
// and "next" when more rows may follow: the cursor to pass as ?after=.
type listResponse[T any] struct {
	List  []T    `json:"list"`
	Total int64  `json:"total"`
	Next  string `json:"next,omitempty" example:"WyJvcmRlcnMiXQ"`
}

// listOptions reads ?search=, ?page=&page_size= (1-based pages),
// ?offset=&limit=, or ?after=&limit= (a cursor: the previous page's next)
// into gateway.ListOptions. The domain tells a malformed cursor.
func listOptions(c fiber.Ctx) (gateway.ListOptions, error) {
	var v apperr.Validator
	num := func(name string, min int) (int, bool) {
		s := c.Query(name)
		if s == "" {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			v.Add(name, "want an integer of at least %d, got %q", min, s)
			return 0, false
		}
		if (name == "page_size" || name == "limit") && n > maxPageSize {
			v.Add(name, "at most %d", maxPageSize)
			return 0, false
		}
		return n, true
	}
	o := gateway.ListOptions{Search: c.Query("search")}
	page, hasPage := num("page", 1)
	size, hasSize := num("page_size", 1)
	offset, hasOffset := num("offset", 0)
	limit, hasLimit := num("limit", 1)
	if (hasPage || hasSize) && (hasOffset || hasLimit) {
		v.Add("page", "use page and page_size, or offset and limit, not both")
	}
	after := c.Query("after")
	if after != "" && (hasPage || hasOffset) {
		v.Add("after", "use after (a cursor) or page or offset, not both")
	}
	if err := v.Err(); err != nil {
		return o, err
	}
	o.After = string([]byte(after))
	switch {
	case o.After != "":
		if hasSize {
			o.Limit = size
		}
		if hasLimit {
			o.Limit = limit
		}
	case hasPage || hasSize:
		if !hasSize {
			size = defaultPageSize
		}
		if !hasPage {
			page = 1
		}
		o.Offset, o.Limit = (page-1)*size, size
	default:
		o.Offset = offset
		if hasLimit {
			o.Limit = limit
		}
	}
	return o, nil
}

// renderList answers a page as {"list": [...], "total": N, "next": "..."},
// never "list": null.
func renderList[T any](c fiber.Ctx, p gateway.Page[T]) error {
	if p.List == nil {
		p.List = []T{}
	}
	return c.JSON(listResponse[T]{List: p.List, Total: p.Total, Next: p.Next})
}

// param copies a path parameter out of fiber's reused buffer.
func param(c fiber.Ctx, name string) string {
	return string([]byte(c.Params(name)))
}
