package models

import "time"

// User is anyone who signs in to the site: admins (API producers) and
// developers (API consumers).
type User struct {
	ID           string `gorm:"primaryKey;size:32"`
	Email        string `gorm:"size:254;uniqueIndex;not null"`
	Name         string `gorm:"size:200"`
	PasswordHash string `gorm:"size:100"` // bcrypt; empty for accounts that only sign in through OAuth
	IsAdmin      bool   `gorm:"not null;default:false"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIToken authorizes Admin API calls (header X-API-KEY). Only a SHA-256 hash
// of the token is stored.
type APIToken struct {
	ID        string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"size:200"`
	TokenHash string `gorm:"size:64;uniqueIndex;not null"`
	UserID    string `gorm:"size:32;index"`
	CreatedAt time.Time
}
