package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
)

// gatewayGroupRequest creates a gateway group.
type gatewayGroupRequest struct {
	Name        string `json:"name" example:"staging"`
	Description string `json:"description,omitempty"`
	// Prefix is the group's etcd prefix; default /apisix_<id>.
	Prefix string `json:"prefix,omitempty" example:"/apisix_staging"`
	// EtcdEndpoints are the group's own etcd cluster; default the control plane's.
	EtcdEndpoints []string `json:"etcd_endpoints,omitempty"`
}

// listGatewayGroups godoc
//
//	@Summary	List gateway groups
//	@Tags		gateway groups
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		search		query		string	false	"filter by name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[gateway.Group]
//	@Failure	400,401		{object}	errorResponse
//	@Router		/gateway_groups [get]
func (h *handler) listGatewayGroups(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.gw.ListGroups(c.Context(), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createGatewayGroup godoc
//
//	@Summary	Create a gateway group
//	@Tags		gateway groups
//	@Accept		json
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		body		body		gatewayGroupRequest	true	"the group"
//	@Success	201			{object}	gateway.Group
//	@Failure	400,401,409	{object}	errorResponse
//	@Router		/gateway_groups [post]
func (h *handler) createGatewayGroup(c fiber.Ctx) error {
	var req gatewayGroupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	g, err := h.gw.CreateGroup(c.Context(), gateway.GroupInput{
		Name:          req.Name,
		Description:   req.Description,
		Prefix:        req.Prefix,
		EtcdEndpoints: req.EtcdEndpoints,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

// getGatewayGroup godoc
//
//	@Summary	Get a gateway group
//	@Tags		gateway groups
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		gid		path		string	true	"gateway group ID"
//	@Success	200		{object}	gateway.Group
//	@Failure	401,404	{object}	errorResponse
//	@Router		/gateway_groups/{gid} [get]
func (h *handler) getGatewayGroup(c fiber.Ctx) error {
	g, err := h.gw.GetGroup(c.Context(), param(c, "gid"))
	if err != nil {
		return err
	}
	return c.JSON(g)
}

// listGatewayGroupNodes godoc
//
//	@Summary		List a group's data plane nodes
//	@Description	Every node seen in the group, online while its registration lease in etcd lives, offline after.
//	@Tags			gateway groups
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid		path		string	true	"gateway group ID"
//	@Success		200		{object}	listResponse[gateway.Node]
//	@Failure		401,404	{object}	errorResponse
//	@Router			/gateway_groups/{gid}/nodes [get]
func (h *handler) listGatewayGroupNodes(c fiber.Ctx) error {
	nodes, err := h.gw.ListNodes(c.Context(), param(c, "gid"))
	if err != nil {
		return err
	}
	return renderList(c, gateway.Page[gateway.Node]{List: nodes, Total: int64(len(nodes))})
}
