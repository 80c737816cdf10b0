package handlers

import (
	"bytes"

	"github.com/gofiber/fiber/v3"

	"devportal/portal/subscriptions"
)

// subscriptionRequest subscribes an application to a published API.
type subscriptionRequest struct {
	ApplicationID string `json:"application_id"`
	APIID         string `json:"api_id"`
}

// decisionRequest is the optional reason of a rejection or revocation,
// shown to the developer.
type decisionRequest struct {
	Reason string `json:"reason,omitempty" example:"Use the v2 API instead."`
}

// listSubscriptions godoc
//
//	@Summary	List subscriptions, newest first
//	@Tags		subscriptions
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		status			query		string	false	"only this status"	Enums(pending, approved, rejected, revoked, cancelled)
//	@Param		application_id	query		string	false	"only this application's"
//	@Param		api_id			query		string	false	"only to this API"
//	@Param		organization_id	query		string	false	"only this organization's"
//	@Param		page			query		int		false	"page number, from 1"
//	@Param		page_size		query		int		false	"page size (default 20, at most 500)"
//	@Param		offset			query		int		false	"offset, instead of page"
//	@Param		limit			query		int		false	"limit, instead of page_size"
//	@Param		after			query		string	false	"cursor from the previous page's next"
//	@Success	200				{object}	listResponse[subscriptions.Subscription]
//	@Failure	400,401			{object}	errorResponse
//	@Router		/subscriptions [get]
func (h *handler) listSubscriptions(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.cfg.Subscriptions.List(c.Context(), apiActor(c), subscriptions.Filter{
		Status: c.Query("status"),
		AppID:  c.Query("application_id"),
		APIID:  c.Query("api_id"),
		OrgID:  c.Query("organization_id"),
	}, o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createSubscription godoc
//
//	@Summary		Subscribe an application to an API
//	@Description	Pending until approved, or approved at once when the API approves automatically. A second active subscription of the same application to the same API answers 409.
//	@Tags			subscriptions
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			body			body		subscriptionRequest	true	"the application and the API"
//	@Success		201				{object}	subscriptions.Subscription
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Router			/subscriptions [post]
func (h *handler) createSubscription(c fiber.Ctx) error {
	var req subscriptionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.cfg.Subscriptions.Request(c.Context(), apiActor(c), req.ApplicationID, req.APIID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s)
}

// getSubscription godoc
//
//	@Summary	Get a subscription
//	@Tags		subscriptions
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		id		path		string	true	"subscription ID"
//	@Success	200		{object}	subscriptions.Subscription
//	@Failure	401,404	{object}	errorResponse
//	@Router		/subscriptions/{id} [get]
func (h *handler) getSubscription(c fiber.Ctx) error {
	s, err := h.cfg.Subscriptions.Get(c.Context(), apiActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// approveSubscription godoc
//
//	@Summary		Approve a pending subscription
//	@Description	Puts the application's consumer on the API's whitelist; its key works for the API once the gateway has the change. Only a pending subscription can be approved (409 otherwise).
//	@Tags			subscriptions
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id			path		string	true	"subscription ID"
//	@Success		200			{object}	subscriptions.Subscription
//	@Failure		401,404,409	{object}	errorResponse
//	@Router			/subscriptions/{id}/approve [post]
func (h *handler) approveSubscription(c fiber.Ctx) error {
	s, err := h.cfg.Subscriptions.Approve(c.Context(), apiActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// rejectSubscription godoc
//
//	@Summary		Reject a pending subscription
//	@Description	The optional reason is shown to the developer. Only a pending subscription can be rejected (409 otherwise).
//	@Tags			subscriptions
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id				path		string			true	"subscription ID"
//	@Param			body			body		decisionRequest	false	"the reason"
//	@Success		200				{object}	subscriptions.Subscription
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Router			/subscriptions/{id}/reject [post]
func (h *handler) rejectSubscription(c fiber.Ctx) error {
	var req decisionRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	s, err := h.cfg.Subscriptions.Reject(c.Context(), apiActor(c), param(c, "id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// revokeSubscription godoc
//
//	@Summary		Revoke an approved subscription
//	@Description	Takes the application's consumer off the API's whitelist: its key stops working for this API, and keeps working for its other APIs. Only an approved subscription can be revoked (409 otherwise).
//	@Tags			subscriptions
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id				path		string			true	"subscription ID"
//	@Param			body			body		decisionRequest	false	"the reason"
//	@Success		200				{object}	subscriptions.Subscription
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Router			/subscriptions/{id}/revoke [post]
func (h *handler) revokeSubscription(c fiber.Ctx) error {
	var req decisionRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	s, err := h.cfg.Subscriptions.Revoke(c.Context(), apiActor(c), param(c, "id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// decodeOptionalJSON is decodeJSON for a body the caller may leave out.
func decodeOptionalJSON(c fiber.Ctx, v any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	return decodeJSON(c, v)
}
