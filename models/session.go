package models

import "time"

// Session is one web session of the site, shared by every control plane
// replica. ID is the SHA-256 (hex) of the session cookie's value, so the
// table alone does not let anyone take over a session.
type Session struct {
	ID        string    `gorm:"primaryKey;size:64"`
	Data      []byte    `gorm:"not null"`
	ExpiresAt time.Time `gorm:"index"` // zero: no expiry
	UpdatedAt time.Time
}
