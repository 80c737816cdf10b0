package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
)

// pluginTemplateRequest creates or replaces a plugin template.
type pluginTemplateRequest struct {
	Name        string `json:"name" example:"rate-limited"`
	Description string `json:"description,omitempty"`
	// Plugins are APISIX plugin configurations by plugin name.
	Plugins map[string]any `json:"plugins" swaggertype:"object"`
}

func (r pluginTemplateRequest) input() gateway.PluginTemplateInput {
	return gateway.PluginTemplateInput{Name: r.Name, Description: r.Description, Plugins: r.Plugins}
}

// listPluginTemplates godoc
//
//	@Summary	List plugin templates
//	@Tags		plugin templates
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		search		query		string	false	"filter by name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[gateway.PluginTemplate]
//	@Failure	400,401		{object}	errorResponse
//	@Router		/plugin_templates [get]
func (h *handler) listPluginTemplates(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.gw.ListPluginTemplates(c.Context(), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createPluginTemplate godoc
//
//	@Summary		Create a plugin template
//	@Description	A named set of route plugins (APISIX plugin_configs); routes get user plugins only through these.
//	@Tags			plugin templates
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			body		body		pluginTemplateRequest	true	"the plugin template"
//	@Success		201			{object}	gateway.PluginTemplate
//	@Failure		400,401,409	{object}	errorResponse
//	@Router			/plugin_templates [post]
func (h *handler) createPluginTemplate(c fiber.Ctx) error {
	var req pluginTemplateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := h.gw.CreatePluginTemplate(c.Context(), req.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// getPluginTemplate godoc
//
//	@Summary	Get a plugin template
//	@Tags		plugin templates
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		id		path		string	true	"plugin template ID"
//	@Success	200		{object}	gateway.PluginTemplate
//	@Failure	401,404	{object}	errorResponse
//	@Router		/plugin_templates/{id} [get]
func (h *handler) getPluginTemplate(c fiber.Ctx) error {
	p, err := h.gw.GetPluginTemplate(c.Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// updatePluginTemplate godoc
//
//	@Summary	Replace a plugin template
//	@Tags		plugin templates
//	@Accept		json
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		id				path		string					true	"plugin template ID"
//	@Param		body			body		pluginTemplateRequest	true	"the plugin template"
//	@Success	200				{object}	gateway.PluginTemplate
//	@Failure	400,401,404,409	{object}	errorResponse
//	@Router		/plugin_templates/{id} [put]
func (h *handler) updatePluginTemplate(c fiber.Ctx) error {
	var req pluginTemplateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := h.gw.UpdatePluginTemplate(c.Context(), param(c, "id"), req.input())
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// deletePluginTemplate godoc
//
//	@Summary	Delete a plugin template
//	@Tags		plugin templates
//	@Security	ApiKeyAuth
//	@Param		id	path	string	true	"plugin template ID"
//	@Success	204
//	@Failure	401,404,409	{object}	errorResponse
//	@Router		/plugin_templates/{id} [delete]
func (h *handler) deletePluginTemplate(c fiber.Ctx) error {
	if err := h.gw.DeletePluginTemplate(c.Context(), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
