// Package audit records every admin action (who, what, when, before and
// after) in the same transaction as the action, and lists them.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"devportal/models"
	"devportal/portal"
)

// Record writes one entry inside tx. before and after are any JSON-able
// state (nil when there is none); secrets must not be in them.
func Record(tx *gorm.DB, actor portal.Actor, action, targetType, targetID string, before, after any) error {
	e := models.AuditEntry{ActorID: actor.UserID, ActorEmail: actor.Email, Action: action,
		TargetType: targetType, TargetID: targetID, Before: toJSON(before), After: toJSON(after),
		CreatedAt: time.Now().UTC()}
	return tx.Create(&e).Error
}

func toJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Entry is an audit entry as shown.
type Entry struct {
	ID         int64     `json:"id"`
	ActorEmail string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Query filters the log; BeforeID pages backwards (keyset: no OFFSET scans).
type Query struct {
	Action     string
	TargetType string
	TargetID   string
	BeforeID   int64
	Limit      int
}

// Log reads the audit log.
type Log struct{ db *gorm.DB }

// New reads the log of db.
func New(db *gorm.DB) *Log { return &Log{db: db} }

// List returns the newest entries matching q, newest first.
func (l *Log) List(ctx context.Context, q Query) ([]Entry, error) {
	tx := l.db.WithContext(ctx).Model(&models.AuditEntry{})
	if q.Action != "" {
		tx = tx.Where("action = ?", q.Action)
	}
	if q.TargetType != "" {
		tx = tx.Where("target_type = ?", q.TargetType)
	}
	if q.TargetID != "" {
		tx = tx.Where("target_id = ?", q.TargetID)
	}
	if q.BeforeID > 0 {
		tx = tx.Where("id < ?", q.BeforeID)
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	var rows []models.AuditEntry
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry{ID: r.ID, ActorEmail: r.ActorEmail, Action: r.Action, TargetType: r.TargetType,
			TargetID: r.TargetID, Before: r.Before, After: r.After, CreatedAt: r.CreatedAt}
	}
	return out, nil
}
