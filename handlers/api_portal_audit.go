package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/apperr"
	"devportal/portal/audit"
)

// Bounds of an audit page.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 200
)

// auditPage is a page of the audit log, newest first. Total counts the
// entries in this page; the next (older) page is ?before_id=next_before_id.
type auditPage struct {
	List         []audit.Entry `json:"list"`
	Total        int64         `json:"total"`
	NextBeforeID int64         `json:"next_before_id,omitempty"`
}

// listAudit godoc
//
//	@Summary		Read the audit log
//	@Description	Every admin action (who, what, when, before and after), newest first, paged backwards by entry ID.
//	@Tags			audit
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			action		query		string	false	"only this action, e.g. subscription.approve"
//	@Param			target_type	query		string	false	"only this kind of target, e.g. subscription"
//	@Param			target_id	query		string	false	"only this target"
//	@Param			before_id	query		int		false	"only entries older than this ID (the previous page's next_before_id)"
//	@Param			limit		query		int		false	"page size (default 50, at most 200)"
//	@Success		200			{object}	auditPage
//	@Failure		400,401		{object}	errorResponse
//	@Router			/audit [get]
func (h *handler) listAudit(c fiber.Ctx) error {
	var v apperr.Validator
	q := audit.Query{Action: c.Query("action"), TargetType: c.Query("target_type"), TargetID: c.Query("target_id"), Limit: defaultAuditLimit}
	if s := c.Query("before_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n >= 1, "before_id", "want an entry ID (an integer of at least 1), got %q", s)
		q.BeforeID = n
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= maxAuditLimit, "limit", "want an integer from 1 to %d, got %q", maxAuditLimit, s)
		q.Limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, err := h.cfg.Audit.List(c.Context(), q)
	if err != nil {
		return err
	}
	page := auditPage{List: list, Total: int64(len(list))}
	if page.List == nil {
		page.List = []audit.Entry{}
	}
	if len(list) == q.Limit {
		page.NextBeforeID = list[len(list)-1].ID
	}
	return c.JSON(page)
}
