// Package apperr holds the error kinds every domain package returns, so that
// one place maps them to HTTP statuses (JSON for the Admin API, pages for the site).
package apperr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel kinds; wrap them with %w and context.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrForbidden   = errors.New("forbidden")
	ErrUnavailable = errors.New("unavailable") // a dependency (etcd, the database) did not answer
)

// ValidationError maps each bad field to what is wrong with it. The site shows
// the messages beside their fields; the Admin API answers 400 with them.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the fields in a stable order.
func (v *ValidationError) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + v.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Invalid builds a ValidationError for one field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: fmt.Sprintf(format, args...)}}
}

// Validator collects field errors.
type Validator struct{ fields map[string]string }

// Add records a problem with field; the first problem of a field wins.
func (v *Validator) Add(field, format string, args ...any) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = fmt.Sprintf(format, args...)
	}
}

// Check adds the problem when ok is false.
func (v *Validator) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns nil when nothing was added, else the *ValidationError.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// NotFound wraps ErrNotFound: "<what> <id> not found".
func NotFound(what, id string) error { return fmt.Errorf("%s %q %w", what, id, ErrNotFound) }

// Conflict wraps ErrConflict with a message.
func Conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

// Unavailable wraps ErrUnavailable with what failed.
func Unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, what, err)
}
