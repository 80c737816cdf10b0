package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/models"
)

// serviceTemplateRequest creates or replaces a service template. It is
// models.ServiceSpec without what only the core fills in (plugin_configs of
// published copies), so a caller cannot set it.
type serviceTemplateRequest struct {
	Name        string `json:"name" example:"orders"`
	Description string `json:"description,omitempty"`
	// Type is http (routes) or stream (stream_routes), never both.
	Type     string              `json:"type" example:"http" enums:"http,stream"`
	Upstream models.UpstreamSpec `json:"upstream"`
	// Canary is a second upstream taking a weighted share of the traffic.
	Canary *models.CanarySpec `json:"canary,omitempty"`
	// Routes keep their template_id when given one the template already has.
	Routes       []models.RouteSpec       `json:"routes,omitempty"`
	StreamRoutes []models.StreamRouteSpec `json:"stream_routes,omitempty"`
	Labels       map[string]string        `json:"labels,omitempty"`
}

// spec copies the request into the domain's input.
func (r serviceTemplateRequest) spec() models.ServiceSpec {
	return models.ServiceSpec{
		Name:         r.Name,
		Description:  r.Description,
		Type:         r.Type,
		Upstream:     r.Upstream,
		Canary:       r.Canary,
		Routes:       r.Routes,
		StreamRoutes: r.StreamRoutes,
		Labels:       r.Labels,
	}
}

// publishRequest publishes a template version to a gateway group.
type publishRequest struct {
	GatewayGroupID string `json:"gateway_group_id" example:"default"`
	Version        string `json:"version" example:"1.0.0"`
	// ServiceID is the per-group service ID, chosen on the first publish to
	// the group (default: the template ID) and fixed afterwards.
	ServiceID string `json:"service_id,omitempty"`
	// RouteIDs chooses per-group route IDs by route template ID for routes new
	// to the group (default: the route template ID).
	RouteIDs map[string]string `json:"route_ids,omitempty"`
	// Runtime replaces the group's runtime configuration; absent, the group's
	// current one is kept.
	Runtime *models.Runtime `json:"runtime,omitempty"`
}

// listServiceTemplates godoc
//
//	@Summary	List service templates (the Service Hub)
//	@Tags		service templates
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		search		query		string	false	"filter by name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[gateway.ServiceTemplate]
//	@Failure	400,401		{object}	errorResponse
//	@Router		/service_templates [get]
func (h *handler) listServiceTemplates(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.gw.ListTemplates(c.Context(), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createServiceTemplate godoc
//
//	@Summary		Create a service template
//	@Description	Creates a template in the Service Hub; nothing goes live until it is published.
//	@Tags			service templates
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			body		body		serviceTemplateRequest	true	"the template"
//	@Success		201			{object}	gateway.ServiceTemplate
//	@Failure		400,401,409	{object}	errorResponse
//	@Router			/service_templates [post]
func (h *handler) createServiceTemplate(c fiber.Ctx) error {
	var req serviceTemplateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := h.gw.CreateTemplate(c.Context(), req.spec())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

// getServiceTemplate godoc
//
//	@Summary	Get a service template
//	@Tags		service templates
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		tid		path		string	true	"service template ID"
//	@Success	200		{object}	gateway.ServiceTemplate
//	@Failure	401,404	{object}	errorResponse
//	@Router		/service_templates/{tid} [get]
func (h *handler) getServiceTemplate(c fiber.Ctx) error {
	t, err := h.gw.GetTemplate(c.Context(), param(c, "tid"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// updateServiceTemplate godoc
//
//	@Summary		Replace a service template
//	@Description	Edits the template only; published copies change when a version is published.
//	@Tags			service templates
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			tid				path		string					true	"service template ID"
//	@Param			body			body		serviceTemplateRequest	true	"the template"
//	@Success		200				{object}	gateway.ServiceTemplate
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Router			/service_templates/{tid} [put]
func (h *handler) updateServiceTemplate(c fiber.Ctx) error {
	var req serviceTemplateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := h.gw.UpdateTemplate(c.Context(), param(c, "tid"), req.spec())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// deleteServiceTemplate godoc
//
//	@Summary	Delete a service template
//	@Tags		service templates
//	@Security	ApiKeyAuth
//	@Param		tid	path	string	true	"service template ID"
//	@Success	204
//	@Failure	401,404,409	{object}	errorResponse
//	@Router		/service_templates/{tid} [delete]
func (h *handler) deleteServiceTemplate(c fiber.Ctx) error {
	if err := h.gw.DeleteTemplate(c.Context(), param(c, "tid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// publishServiceTemplate godoc
//
//	@Summary		Publish a template version to a gateway group
//	@Description	Writes the service to the group's etcd prefix in one transaction. The version replaced, if any, goes to history; the group's runtime configuration is kept unless runtime is given.
//	@Tags			service templates
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			tid				path		string			true	"service template ID"
//	@Param			body			body		publishRequest	true	"where and which version"
//	@Success		200				{object}	gateway.PublishedService
//	@Success		202				{object}	gateway.PublishedService	"recorded; the group's etcd is unreachable, so the change is queued (pending: true)"
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Failure		503				{object}	errorResponse
//	@Router			/service_templates/{tid}/publish [post]
func (h *handler) publishServiceTemplate(c fiber.Ctx) error {
	var req publishRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.gw.Publish(c.Context(), param(c, "tid"), gateway.PublishInput{
		GatewayGroupID: req.GatewayGroupID,
		Version:        req.Version,
		ServiceID:      req.ServiceID,
		RouteIDs:       req.RouteIDs,
		Runtime:        req.Runtime,
	})
	if err != nil {
		return err
	}
	return c.Status(publishedStatus(s, fiber.StatusOK)).JSON(s)
}
