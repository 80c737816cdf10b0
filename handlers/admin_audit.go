package handlers

import (
	"bytes"
	"encoding/json"
	"net/url"
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

func prettyJSON(s string) string {
	var b bytes.Buffer
	if s == "" || json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}
