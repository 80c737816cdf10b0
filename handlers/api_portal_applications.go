package handlers

import (
	"math"
	"time"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/apperr"
	"devportal/portal/apps"
)

// applicationRequest creates an application of an organization.
type applicationRequest struct {
	Name        string `json:"name" example:"billing-sync"`
	Description string `json:"description,omitempty"`
}

// rotateKeyRequest rotates an application's key.
type rotateKeyRequest struct {
	// GraceSeconds is how long the current key keeps working, 0 to 2592000 (30 days).
	GraceSeconds *int64 `json:"grace_seconds" example:"3600"`
}

// rotatedKey is the new key, shown in this answer only.
type rotatedKey struct {
	APIKey string `json:"api_key" example:"dpk_..."`
}

// listApplications godoc
//
//	@Summary	List an organization's applications
//	@Tags		applications
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		oid			path		string	true	"organization ID"
//	@Param		search		query		string	false	"filter by name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[apps.App]
//	@Failure	400,401,404	{object}	errorResponse
//	@Router		/organizations/{oid}/applications [get]
func (h *handler) listApplications(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.cfg.Apps.List(c.Context(), apiActor(c), param(c, "oid"), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createApplication godoc
//
//	@Summary		Create an application in an organization
//	@Description	The answer carries the application's consumer name (app_<id>) and its API key; the key is shown in this answer only.
//	@Tags			applications
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			oid			path		string				true	"organization ID"
//	@Param			body		body		applicationRequest	true	"the application"
//	@Success		201			{object}	apps.Created
//	@Failure		400,401,404	{object}	errorResponse
//	@Router			/organizations/{oid}/applications [post]
func (h *handler) createApplication(c fiber.Ctx) error {
	var req applicationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := h.cfg.Apps.Create(c.Context(), apiActor(c), param(c, "oid"), apps.Input{
		Name:        req.Name,
		Description: req.Description,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

// getApplication godoc
//
//	@Summary		Get an application
//	@Description	With its keys' hints and expiry; never the keys themselves.
//	@Tags			applications
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			aid		path		string	true	"application ID"
//	@Success		200		{object}	apps.App
//	@Failure		401,404	{object}	errorResponse
//	@Router			/applications/{aid} [get]
func (h *handler) getApplication(c fiber.Ctx) error {
	a, err := h.cfg.Apps.Get(c.Context(), apiActor(c), param(c, "aid"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// deleteApplication godoc
//
//	@Summary		Delete an application
//	@Description	Its subscriptions are cancelled and its consumer leaves every gateway group.
//	@Tags			applications
//	@Security		ApiKeyAuth
//	@Param			aid	path	string	true	"application ID"
//	@Success		204
//	@Failure		401,404	{object}	errorResponse
//	@Router			/applications/{aid} [delete]
func (h *handler) deleteApplication(c fiber.Ctx) error {
	if err := h.cfg.Apps.Delete(c.Context(), apiActor(c), param(c, "aid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// rotateApplicationKey godoc
//
//	@Summary		Rotate an application's API key
//	@Description	The new key works at once; the current one keeps working until the grace period ends. The new key is shown in this answer only.
//	@Tags			applications
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			aid			path		string				true	"application ID"
//	@Param			body		body		rotateKeyRequest	true	"the grace period"
//	@Success		200			{object}	rotatedKey
//	@Failure		400,401,404	{object}	errorResponse
//	@Router			/applications/{aid}/keys/rotate [post]
func (h *handler) rotateApplicationKey(c fiber.Ctx) error {
	var req rotateKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.GraceSeconds == nil {
		return apperr.Invalid("grace_seconds", "is required (0 ends the current key at once)")
	}
	key, err := h.cfg.Apps.RotateKey(c.Context(), apiActor(c), param(c, "aid"), seconds(*req.GraceSeconds))
	if err != nil {
		return err
	}
	return c.JSON(rotatedKey{APIKey: key})
}

// seconds converts a count of seconds to a Duration, saturating instead of
// overflowing so that the domain's bounds check sees a huge value as huge.
func seconds(n int64) time.Duration {
	const most = math.MaxInt64 / int64(time.Second)
	switch {
	case n > most:
		return math.MaxInt64
	case n < -most:
		return math.MinInt64
	}
	return time.Duration(n) * time.Second
}
