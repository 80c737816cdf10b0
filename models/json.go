package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON stores a value as JSON text, so one column holds a nested structure on
// SQLite and PostgreSQL alike.
type JSON[T any] struct{ V T }

// NewJSON wraps v.
func NewJSON[T any](v T) JSON[T] { return JSON[T]{V: v} }

// Value implements driver.Valuer.
func (j JSON[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (j *JSON[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		var zero T
		j.V = zero
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("models: cannot scan %T into JSON", src)
	}
	return json.Unmarshal(b, &j.V)
}

// GormDataType makes the column text on every database.
func (JSON[T]) GormDataType() string { return "text" }
