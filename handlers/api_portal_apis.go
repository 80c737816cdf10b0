package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/portal/catalog"
)

// portalAPIRequest creates or replaces a portal API: a published route (or a
// whole published service) shown on the portal, with its policies.
type portalAPIRequest struct {
	GatewayGroupID string `json:"gateway_group_id" example:"default"`
	ServiceID      string `json:"service_id" example:"orders"`
	// RouteID is the route shown; empty shows the whole service.
	RouteID     string `json:"route_id,omitempty"`
	Name        string `json:"name" example:"Orders"`
	Description string `json:"description,omitempty"`
	// OpenAPI is the OpenAPI 3 document: its text (JSON or YAML) or the JSON object itself.
	OpenAPI catalog.Document `json:"openapi,omitempty" swaggertype:"object"`
	// Auth is "key-auth" (default) or "none".
	Auth string `json:"auth" example:"key-auth" enums:"key-auth,none"`
	// Approval is "manual" (default) or "auto".
	Approval  string            `json:"approval,omitempty" example:"manual" enums:"manual,auto"`
	RateLimit *rateLimitRequest `json:"rate_limit,omitempty"`
}

// rateLimitRequest is a rate limit per application: count requests per time_window seconds.
type rateLimitRequest struct {
	Count      int `json:"count" example:"100"`
	TimeWindow int `json:"time_window" example:"60"`
}

func (r portalAPIRequest) input() catalog.Input {
	in := catalog.Input{
		GatewayGroupID: r.GatewayGroupID,
		ServiceID:      r.ServiceID,
		RouteID:        r.RouteID,
		Name:           r.Name,
		Description:    r.Description,
		OpenAPI:        r.OpenAPI,
		Auth:           r.Auth,
		Approval:       r.Approval,
	}
	if r.RateLimit != nil {
		in.RateLimit = &gateway.RateLimit{Count: r.RateLimit.Count, TimeWindow: r.RateLimit.TimeWindow}
	}
	return in
}

// listPortalAPIs godoc
//
//	@Summary	List portal APIs
//	@Tags		portal APIs
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		search		query		string	false	"filter by name or description"
//	@Param		published	query		bool	false	"true: only the APIs published on the portal"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[catalog.API]
//	@Failure	400,401		{object}	errorResponse
//	@Router		/portal/apis [get]
func (h *handler) listPortalAPIs(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	var f catalog.Filter
	if s := c.Query("published"); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			return apperr.Invalid("published", "want true or false, got %q", s)
		}
		f.PublishedOnly = on
	}
	page, err := h.cfg.Catalog.List(c.Context(), f, o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createPortalAPI godoc
//
//	@Summary		Put a published route or service on the portal
//	@Description	Creates the API unpublished; publish it to show it in the catalog and enforce its policies on the gateway. A bad OpenAPI document answers 400 naming the problem.
//	@Tags			portal APIs
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			body		body		portalAPIRequest	true	"the API"
//	@Success		201			{object}	catalog.API
//	@Failure		400,401,409	{object}	errorResponse
//	@Router			/portal/apis [post]
func (h *handler) createPortalAPI(c fiber.Ctx) error {
	var req portalAPIRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := h.cfg.Catalog.Create(c.Context(), apiActor(c), req.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

// getPortalAPI godoc
//
//	@Summary	Get a portal API
//	@Tags		portal APIs
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		id		path		string	true	"API ID"
//	@Success	200		{object}	catalog.API
//	@Failure	401,404	{object}	errorResponse
//	@Router		/portal/apis/{id} [get]
func (h *handler) getPortalAPI(c fiber.Ctx) error {
	a, err := h.cfg.Catalog.Get(c.Context(), param(c, "id"), false)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// updatePortalAPI godoc
//
//	@Summary		Replace a portal API
//	@Description	On a published API a policy change reaches the gateway at once. An API with subscriptions cannot move to another route.
//	@Tags			portal APIs
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id				path		string				true	"API ID"
//	@Param			body			body		portalAPIRequest	true	"the API"
//	@Success		200				{object}	catalog.API
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Router			/portal/apis/{id} [put]
func (h *handler) updatePortalAPI(c fiber.Ctx) error {
	var req portalAPIRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := h.cfg.Catalog.Update(c.Context(), apiActor(c), param(c, "id"), req.input())
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// deletePortalAPI godoc
//
//	@Summary		Remove an API from the portal
//	@Description	Its subscriptions are revoked. A key-auth route stays closed (key-auth on, no consumer on its whitelist, no rate limit), so deleting an API never opens a route by accident; to open the route, set the API's auth to none before deleting it. To stop new subscriptions and keep existing ones working, unpublish instead.
//	@Tags			portal APIs
//	@Security		ApiKeyAuth
//	@Param			id	path	string	true	"API ID"
//	@Success		204
//	@Failure		401,404	{object}	errorResponse
//	@Router			/portal/apis/{id} [delete]
func (h *handler) deletePortalAPI(c fiber.Ctx) error {
	if err := h.cfg.Catalog.Delete(c.Context(), apiActor(c), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// getPortalAPIDocument godoc
//
//	@Summary		Get a portal API's OpenAPI document
//	@Description	The document as uploaded, JSON or YAML; 404 when the API has none.
//	@Tags			portal APIs
//	@Produce		json
//	@Produce		application/yaml
//	@Security		ApiKeyAuth
//	@Param			id		path		string	true	"API ID"
//	@Success		200		{object}	object
//	@Failure		401,404	{object}	errorResponse
//	@Router			/portal/apis/{id}/openapi [get]
func (h *handler) getPortalAPIDocument(c fiber.Ctx) error {
	id := param(c, "id")
	_, text, format, err := h.cfg.Catalog.Document(c.Context(), id, false)
	if err != nil {
		return err
	}
	if text == "" {
		return apperr.NotFound("OpenAPI document of API", id)
	}
	c.Type("json")
	if format == "yaml" {
		c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	}
	return c.SendString(text)
}

// publishPortalAPI godoc
//
//	@Summary		Publish an API on the portal
//	@Description	Shows it in the catalog and applies its policies on the gateway: with key auth, only keys of approved subscriptions pass from then on.
//	@Tags			portal APIs
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id			path		string	true	"API ID"
//	@Success		200			{object}	catalog.API
//	@Failure		401,404,409	{object}	errorResponse
//	@Router			/portal/apis/{id}/publish [post]
func (h *handler) publishPortalAPI(c fiber.Ctx) error {
	a, err := h.cfg.Catalog.Publish(c.Context(), apiActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// unpublishPortalAPI godoc
//
//	@Summary		Unpublish an API from the portal
//	@Description	Hides it from the catalog; no new subscriptions. The gateway keeps enforcing its policies, so approved applications keep their access.
//	@Tags			portal APIs
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			id		path		string	true	"API ID"
//	@Success		200		{object}	catalog.API
//	@Failure		401,404	{object}	errorResponse
//	@Router			/portal/apis/{id}/unpublish [post]
func (h *handler) unpublishPortalAPI(c fiber.Ctx) error {
	a, err := h.cfg.Catalog.Unpublish(c.Context(), apiActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}
