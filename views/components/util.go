package components

import (
	"net/url"
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Time formats a time for tables: UTC, to the minute.
func Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// TimePtr formats an optional time.
func TimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return Time(*t)
}

// PageURL is base with its query's page set to page.
func PageURL(base string, page int) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("page", strconv.Itoa(page))
	u.RawQuery = q.Encode()
	return u.String()
}

// MaxCount is where the domain's counts stop (listing.MaxCount): a count
// above it means "more than MaxCount".
const MaxCount = 10_000

// Count shows a count, "10000+" past MaxCount.
func Count(n int64) string {
	if n > MaxCount {
		return strconv.Itoa(MaxCount) + "+"
	}
	return strconv.FormatInt(n, 10)
}
