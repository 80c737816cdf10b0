package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/models"
	"devportal/portal"
)

// registerPortalAPI registers the portal part of the Admin API under
// /api/v1 (already behind requireAdmin). Each route first checks that the
// portal's services are configured (needPortal).
func (h *handler) registerPortalAPI(api fiber.Router) {
	api.Get("/portal/apis", h.needPortal, h.listPortalAPIs)
	api.Post("/portal/apis", h.needPortal, h.createPortalAPI)
	api.Get("/portal/apis/:id", h.needPortal, h.getPortalAPI)
	api.Put("/portal/apis/:id", h.needPortal, h.updatePortalAPI)
	api.Delete("/portal/apis/:id", h.needPortal, h.deletePortalAPI)
	api.Get("/portal/apis/:id/openapi", h.needPortal, h.getPortalAPIDocument)
	api.Post("/portal/apis/:id/publish", h.needPortal, h.publishPortalAPI)
	api.Post("/portal/apis/:id/unpublish", h.needPortal, h.unpublishPortalAPI)

	api.Get("/organizations", h.needPortal, h.listOrganizations)
	api.Post("/organizations", h.needPortal, h.createOrganization)
	api.Get("/organizations/:oid", h.needPortal, h.getOrganization)
	api.Get("/organizations/:oid/developers", h.needPortal, h.listDevelopers)
	api.Post("/organizations/:oid/developers", h.needPortal, h.addDeveloper)
	api.Delete("/organizations/:oid/developers/:uid", h.needPortal, h.removeDeveloper)

	api.Get("/organizations/:oid/applications", h.needPortal, h.listApplications)
	api.Post("/organizations/:oid/applications", h.needPortal, h.createApplication)
	api.Get("/applications/:aid", h.needPortal, h.getApplication)
	api.Delete("/applications/:aid", h.needPortal, h.deleteApplication)
	api.Post("/applications/:aid/keys/rotate", h.needPortal, h.rotateApplicationKey)

	api.Get("/subscriptions", h.needPortal, h.listSubscriptions)
	api.Post("/subscriptions", h.needPortal, h.createSubscription)
	api.Get("/subscriptions/:id", h.needPortal, h.getSubscription)
	api.Post("/subscriptions/:id/approve", h.needPortal, h.approveSubscription)
	api.Post("/subscriptions/:id/reject", h.needPortal, h.rejectSubscription)
	api.Post("/subscriptions/:id/revoke", h.needPortal, h.revokeSubscription)

	api.Get("/audit", h.needPortal, h.listAudit)

	api.Get("/gateway_groups/:gid/drift", h.needPortal, h.gatewayGroupDrift)
	api.Post("/gateway_groups/:gid/reconcile", h.needPortal, h.reconcileGatewayGroup)
	api.Get("/outbox", h.needPortal, h.outboxStatus)
}

// needPortal answers 503 when the program runs without the portal's
// services (a Config with only the control core).
func (h *handler) needPortal(c fiber.Ctx) error {
	cfg := h.cfg
	if cfg.Orgs == nil || cfg.Apps == nil || cfg.Catalog == nil || cfg.Subscriptions == nil || cfg.Audit == nil || cfg.State == nil {
		return &requestError{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "the portal is not configured on this server"}
	}
	return c.Next()
}

// apiActor is the admin calling the Admin API (set by requireAdmin), as the
// portal's domain sees it. Without one it is nobody: domain calls refuse it.
func apiActor(c fiber.Ctx) portal.Actor {
	u, ok := c.Locals(userKey{}).(models.User)
	if !ok {
		return portal.Actor{}
	}
	return portal.Actor{UserID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin}
}
