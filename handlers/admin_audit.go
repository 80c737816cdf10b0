package handlers

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"devportal/portal/audit"
	"devportal/views/admin"
)

const auditPageSize = 50

// adminAudit pages the audit log backwards by ID (?before=), filtered by
// action and target type.
func (h *handler) adminAudit(c fiber.Ctx) error {
	q := audit.Query{Action: queryValue(c, "action"), TargetType: queryValue(c, "target_type"), Limit: auditPageSize + 1}
	if n, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && n > 0 {
		q.BeforeID = n
	}
	entries, err := h.cfg.Audit.List(c.Context(), q)
	if err != nil {
		return err
	}
	p := admin.AuditProps{Layout: layout(c, "Audit log", "audit"), Action: q.Action, TargetType: q.TargetType}
	filter := url.Values{}
	if q.Action != "" {
		filter.Set("action", q.Action)
	}
	if q.TargetType != "" {
		filter.Set("target_type", q.TargetType)
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		next := url.Values{}
		for k, v := range filter {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		p.NextHref = "/admin/audit?" + next.Encode()
	}
	if q.BeforeID > 0 {
		p.FirstHref = "/admin/audit?" + filter.Encode()
	}
	for _, e := range entries {
		p.Entries = append(p.Entries, admin.AuditEntry{ID: e.ID, Actor: e.ActorEmail, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, Before: prettyJSON(e.Before), After: prettyJSON(e.After), CreatedAt: e.CreatedAt})
	}
	return render(c, fiber.StatusOK, admin.Audit(p))
}

// prettyJSON indents an audit value for reading, with any field that could
// hold a secret (passwords, hashes, tokens, keys) replaced by "[redacted]":
// the domain records none, and the page makes sure of it.
func prettyJSON(s string) string {
	if s == "" {
		return s
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return "[not JSON]"
	}
	b, err := json.MarshalIndent(redact(v), "", "  ")
	if err != nil {
		return "[not JSON]"
	}
	return string(b)
}

var secretField = regexp.MustCompile(`(?i)password|hash|secret|token|cipher|encrypted|api_?key|^key$|credential`)

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretField.MatchString(k) {
				x[k] = "[redacted]"
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}
