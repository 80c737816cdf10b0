package listing

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"devportal/internal/apperr"
)

// errCursor is what a malformed or foreign cursor answers: 400 on "after".
func errCursor() error { return apperr.Invalid("after", "invalid cursor") }

// Column is one column of a list's order, named as ORDER BY names it
// ("created_at", "users.email").
type Column struct {
	Name string
	Desc bool
}

// Asc and Desc name a column of an order.
func Asc(name string) Column  { return Column{Name: name} }
func Desc(name string) Column { return Column{Name: name, Desc: true} }

// Order is the total order of a list: no two rows share the values of all
// its Columns (end them with the id, or a unique column), so a cursor names
// one place in the list. An index on the list's filter columns followed by
// Columns lets a page after a cursor read only its own rows.
type Order[T any] struct {
	Columns []Column
	// Key returns a row's values of Columns, in their order, each of a
	// JSON-round-tripping type (string, time.Time, integers).
	Key func(*T) []any
}

// By builds an Order.
func By[T any](key func(*T) []any, columns ...Column) Order[T] {
	return Order[T]{Columns: columns, Key: key}
}

func (o Order[T]) orderBy() string {
	parts := make([]string, len(o.Columns))
	for i, c := range o.Columns {
		parts[i] = c.Name
		if c.Desc {
			parts[i] += " DESC"
		}
	}
	return strings.Join(parts, ", ")
}

// after is the condition "past the cursor's row" in the order. Columns all
// in one direction compare as a row value, (a, b) > (x, y), which SQLite and
// PostgreSQL both read as a range of an index on (a, b). Mixed directions
// have no row form: a >= x AND (a > x OR (a = x AND b < y)), still a range
// on a, the rows of a = x before the cursor filtered out.
func (o Order[T]) after(vals []any) (string, []any) {
	op := func(c Column) string {
		if c.Desc {
			return "<"
		}
		return ">"
	}
	n := len(o.Columns)
	names := make([]string, n)
	oneWay := true
	for i, c := range o.Columns {
		names[i] = c.Name
		oneWay = oneWay && c.Desc == o.Columns[0].Desc
	}
	if n == 1 {
		return names[0] + " " + op(o.Columns[0]) + " ?", vals
	}
	if oneWay {
		return "(" + strings.Join(names, ", ") + ") " + op(o.Columns[0]) + " (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")", vals
	}
	// Innermost first: the last column alone, then each earlier column
	// around it.
	sql, args := names[n-1]+" "+op(o.Columns[n-1])+" ?", []any{vals[n-1]}
	for i := n - 2; i >= 0; i-- {
		sql = "(" + names[i] + " " + op(o.Columns[i]) + " ? OR (" + names[i] + " = ? AND " + sql + "))"
		args = append([]any{vals[i], vals[i]}, args...)
	}
	return "(" + names[0] + " " + op(o.Columns[0]) + "= ? AND " + sql + ")", append([]any{vals[0]}, args...)
}

// encode makes the cursor of a row: base64url of its key values as JSON.
func (o Order[T]) encode(row *T) (string, error) {
	b, err := json.Marshal(o.Key(row))
	if err != nil {
		return "", fmt.Errorf("listing: cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decode reads a cursor back into values of the key's types; anything else
// is a validation error on "after".
func (o Order[T]) decode(cursor string) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(cursor, "="))
	if err != nil {
		return nil, errCursor()
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errCursor()
	}
	zero := o.Key(new(T))
	if len(raw) != len(zero) || len(raw) != len(o.Columns) {
		return nil, errCursor()
	}
	vals := make([]any, len(raw))
	for i, z := range zero {
		v := reflect.New(reflect.TypeOf(z))
		if string(raw[i]) == "null" || json.Unmarshal(raw[i], v.Interface()) != nil {
			return nil, errCursor()
		}
		vals[i] = v.Elem().Interface()
		// PostgreSQL refuses a NUL in text: a 500 were it sent.
		if s, ok := vals[i].(string); ok && strings.ContainsRune(s, 0) {
			return nil, errCursor()
		}
	}
	return vals, nil
}
