package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/models"
)

// serviceRequest creates a service directly on a group (and its template),
// or edits a published service in place (the previous state goes to history).
type serviceRequest struct {
	serviceTemplateRequest
	// ServiceID is the per-group service ID (default: the template ID).
	ServiceID string `json:"service_id,omitempty"`
	// RouteIDs chooses per-group route IDs by route template ID.
	RouteIDs map[string]string `json:"route_ids,omitempty"`
	// Runtime is the group's runtime configuration of the service.
	Runtime *models.Runtime `json:"runtime,omitempty"`
}

func (r serviceRequest) input() gateway.DirectServiceInput {
	return gateway.DirectServiceInput{
		ServiceSpec: r.spec(),
		ServiceID:   r.ServiceID,
		RouteIDs:    r.RouteIDs,
		Runtime:     r.Runtime,
	}
}

// runtimeRequest is a published service's runtime configuration on one group.
type runtimeRequest struct {
	// Upstream, when set, replaces the template's upstream on this group.
	Upstream        *models.UpstreamSpec `json:"upstream,omitempty"`
	Hosts           []string             `json:"hosts,omitempty"`
	PathPrefix      string               `json:"path_prefix,omitempty" example:"/orders"`
	StripPathPrefix bool                 `json:"strip_path_prefix,omitempty"`
}

// rollbackRequest names the history entry to republish.
type rollbackRequest struct {
	HistoryID string `json:"history_id"`
}

// listServices godoc
//
//	@Summary	List the services published on a group
//	@Tags		services
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		gid			path		string	true	"gateway group ID"
//	@Param		search		query		string	false	"filter by name or ID"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[gateway.PublishedService]
//	@Failure	400,401,404	{object}	errorResponse
//	@Router		/gateway_groups/{gid}/services [get]
func (h *handler) listServices(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.gw.ListServices(c.Context(), param(c, "gid"), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createService godoc
//
//	@Summary		Create a service directly on a group
//	@Description	Publishes the service on the group without a version and creates its template in the Service Hub.
//	@Tags			services
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid				path		string			true	"gateway group ID"
//	@Param			body			body		serviceRequest	true	"the service"
//	@Success		201				{object}	gateway.PublishedService
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Failure		503				{object}	errorResponse
//	@Router			/gateway_groups/{gid}/services [post]
func (h *handler) createService(c fiber.Ctx) error {
	var req serviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.gw.CreateService(c.Context(), param(c, "gid"), req.input())
	if err != nil {
		return err
	}
	return c.Status(publishedStatus(s, fiber.StatusCreated)).JSON(s)
}

// getService godoc
//
//	@Summary	Get a published service
//	@Tags		services
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		gid		path		string	true	"gateway group ID"
//	@Param		sid		path		string	true	"service ID (per group)"
//	@Success	200		{object}	gateway.PublishedService
//	@Failure	401,404	{object}	errorResponse
//	@Router		/gateway_groups/{gid}/services/{sid} [get]
func (h *handler) getService(c fiber.Ctx) error {
	s, err := h.gw.GetService(c.Context(), param(c, "gid"), param(c, "sid"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// updateService godoc
//
//	@Summary		Edit a published service in place
//	@Description	The state before the edit is kept in history.
//	@Tags			services
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid				path		string			true	"gateway group ID"
//	@Param			sid				path		string			true	"service ID (per group)"
//	@Param			body			body		serviceRequest	true	"the service"
//	@Success		200				{object}	gateway.PublishedService
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Failure		503				{object}	errorResponse
//	@Router			/gateway_groups/{gid}/services/{sid} [put]
func (h *handler) updateService(c fiber.Ctx) error {
	var req serviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.gw.UpdateService(c.Context(), param(c, "gid"), param(c, "sid"), req.input())
	if err != nil {
		return err
	}
	return c.Status(publishedStatus(s, fiber.StatusOK)).JSON(s)
}

// deleteService godoc
//
//	@Summary		Unpublish a service from a group
//	@Description	Removes exactly the service's keys from the group's etcd prefix.
//	@Tags			services
//	@Security		ApiKeyAuth
//	@Param			gid	path	string	true	"gateway group ID"
//	@Param			sid	path	string	true	"service ID (per group)"
//	@Success		204
//	@Success		202			{object}	queuedResponse	"recorded; the group's etcd is unreachable, so the deletion is queued"
//	@Failure		401,404,409	{object}	errorResponse
//	@Failure		503			{object}	errorResponse
//	@Router			/gateway_groups/{gid}/services/{sid} [delete]
func (h *handler) deleteService(c fiber.Ctx) error {
	queued, err := h.gw.DeleteService(c.Context(), param(c, "gid"), param(c, "sid"))
	if err != nil {
		return err
	}
	if queued {
		return c.Status(fiber.StatusAccepted).JSON(queuedResponse{Pending: true, Message: queuedMessage})
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// queuedResponse answers a change recorded while the group's etcd was unreachable.
type queuedResponse struct {
	Pending bool   `json:"pending" example:"true"`
	Message string `json:"message"`
}

const queuedMessage = "the gateway group's etcd is unreachable: the change is recorded and is applied, in order, once etcd is back"

// publishedStatus is 202 Accepted for a change queued for an unreachable
// etcd, else the call's usual status.
func publishedStatus(s gateway.PublishedService, usual int) int {
	if s.Pending {
		return fiber.StatusAccepted
	}
	return usual
}

// updateServiceRuntime godoc
//
//	@Summary		Set a service's runtime configuration on one group
//	@Description	Upstream nodes, hosts, path prefix and strip path prefix of this group only; kept when a new version is published to the group.
//	@Tags			services
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid			path		string			true	"gateway group ID"
//	@Param			sid			path		string			true	"service ID (per group)"
//	@Param			body		body		runtimeRequest	true	"the runtime configuration"
//	@Success		200			{object}	gateway.PublishedService
//	@Failure		400,401,404	{object}	errorResponse
//	@Failure		503			{object}	errorResponse
//	@Router			/gateway_groups/{gid}/services/{sid}/runtime [put]
func (h *handler) updateServiceRuntime(c fiber.Ctx) error {
	var req runtimeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.gw.UpdateRuntime(c.Context(), param(c, "gid"), param(c, "sid"), models.Runtime{
		Upstream:        req.Upstream,
		Hosts:           req.Hosts,
		PathPrefix:      req.PathPrefix,
		StripPathPrefix: req.StripPathPrefix,
	})
	if err != nil {
		return err
	}
	return c.Status(publishedStatus(s, fiber.StatusOK)).JSON(s)
}

// listServiceHistory godoc
//
//	@Summary	List a service's history on a group
//	@Tags		services
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		gid			path		string	true	"gateway group ID"
//	@Param		sid			path		string	true	"service ID (per group)"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[gateway.HistoryEntry]
//	@Failure	400,401,404	{object}	errorResponse
//	@Router		/gateway_groups/{gid}/services/{sid}/history [get]
func (h *handler) listServiceHistory(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.gw.History(c.Context(), param(c, "gid"), param(c, "sid"), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// rollbackService godoc
//
//	@Summary		Roll a service back to a history version
//	@Description	Republishes the history entry; the state it replaces goes to history.
//	@Tags			services
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid				path		string			true	"gateway group ID"
//	@Param			sid				path		string			true	"service ID (per group)"
//	@Param			body			body		rollbackRequest	true	"the history entry"
//	@Success		200				{object}	gateway.PublishedService
//	@Failure		400,401,404,409	{object}	errorResponse
//	@Failure		503				{object}	errorResponse
//	@Router			/gateway_groups/{gid}/services/{sid}/rollback [post]
func (h *handler) rollbackService(c fiber.Ctx) error {
	var req rollbackRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	s, err := h.gw.Rollback(c.Context(), param(c, "gid"), param(c, "sid"), gateway.RollbackInput{HistoryID: req.HistoryID})
	if err != nil {
		return err
	}
	return c.Status(publishedStatus(s, fiber.StatusOK)).JSON(s)
}
