package handlers

import (
	"github.com/gofiber/fiber/v3"
)

// outboxCount says how many gateway changes wait in the outbox.
type outboxCount struct {
	// Pending counts changes recorded but not applied to etcd yet (due or
	// waiting for a key rotation's grace period to end).
	Pending int64 `json:"pending" example:"0"`
}

// gatewayGroupDrift godoc
//
//	@Summary		Compare a group's etcd with the database
//	@Description	Lists the keys whose etcd value is not what the database says (missing, changed or unexpected), the portal's consumers, keys, policies and whitelists included. Changes nothing.
//	@Tags			gateway groups
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid		path		string	true	"gateway group ID"
//	@Success		200		{object}	gateway.Report
//	@Failure		401,404	{object}	errorResponse
//	@Failure		503		{object}	errorResponse
//	@Router			/gateway_groups/{gid}/drift [get]
func (h *handler) gatewayGroupDrift(c fiber.Ctx) error {
	rep, err := h.gw.Diff(c.Context(), param(c, "gid"), h.cfg.State)
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

// reconcileGatewayGroup godoc
//
//	@Summary		Repair a group's etcd from the database
//	@Description	Writes missing and changed keys and removes unexpected keys the product manages; keys others wrote are left alone. Answers what it found and repaired.
//	@Tags			gateway groups
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			gid		path		string	true	"gateway group ID"
//	@Success		200		{object}	gateway.Report
//	@Failure		401,404	{object}	errorResponse
//	@Failure		503		{object}	errorResponse
//	@Router			/gateway_groups/{gid}/reconcile [post]
func (h *handler) reconcileGatewayGroup(c fiber.Ctx) error {
	rep, err := h.gw.Reconcile(c.Context(), param(c, "gid"), h.cfg.State)
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

// outboxStatus godoc
//
//	@Summary	Count the gateway changes not applied yet
//	@Tags		gateway groups
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Success	200	{object}	outboxCount
//	@Failure	401	{object}	errorResponse
//	@Router		/outbox [get]
func (h *handler) outboxStatus(c fiber.Ctx) error {
	n, err := h.gw.PendingOutbox(c.Context())
	if err != nil {
		return err
	}
	return c.JSON(outboxCount{Pending: n})
}
