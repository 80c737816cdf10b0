package handlers

import "github.com/gofiber/fiber/v3"

// registerAdmin registers the admin side's pages on the /admin group, which
// requireAdminPage guards. Every page needs the portal's services.
func (h *handler) registerAdmin(r fiber.Router) {
	r.Use(h.needPortal)
	r.Get("/", h.adminDashboard)

	r.Get("/groups", h.adminGroups)
	r.Post("/groups", h.adminCreateGroup)
	r.Get("/groups/:gid", h.adminGroup)
	r.Post("/groups/:gid/reconcile", h.adminReconcileGroup)
	r.Get("/groups/:gid/services", h.adminServices)
	r.Get("/groups/:gid/services/new", h.adminNewDirectService)
	r.Post("/groups/:gid/services", h.adminCreateDirectService)
	r.Get("/groups/:gid/services/:sid", h.adminService)
	r.Post("/groups/:gid/services/:sid/runtime", h.adminServiceRuntime)
	r.Post("/groups/:gid/services/:sid/rollback", h.adminServiceRollback)
	r.Post("/groups/:gid/services/:sid/delete", h.adminDeleteService)

	r.Get("/templates", h.adminTemplates)
	r.Get("/templates/new", h.adminNewTemplate)
	r.Post("/templates", h.adminCreateTemplate)
	r.Get("/templates/:tid", h.adminTemplate)
	r.Post("/templates/:tid", h.adminUpdateTemplate)
	r.Post("/templates/:tid/delete", h.adminDeleteTemplate)
	r.Post("/templates/:tid/publish", h.adminPublishTemplate)

	r.Get("/plugin-templates", h.adminPlugins)
	r.Get("/plugin-templates/new", h.adminNewPlugin)
	r.Post("/plugin-templates", h.adminSavePlugin)
	r.Get("/plugin-templates/:id", h.adminPlugin)
	r.Post("/plugin-templates/:id", h.adminSavePlugin)
	r.Post("/plugin-templates/:id/delete", h.adminDeletePlugin)

	r.Get("/apis", h.adminAPIs)
	r.Get("/apis/new", h.adminNewAPI)
	r.Post("/apis", h.adminSaveAPI)
	r.Get("/apis/:id", h.adminAPI)
	r.Post("/apis/:id", h.adminSaveAPI)
	r.Post("/apis/:id/publish", h.adminPublishAPI)
	r.Post("/apis/:id/unpublish", h.adminUnpublishAPI)
	r.Post("/apis/:id/delete", h.adminDeleteAPI)

	r.Get("/subscriptions", h.adminSubscriptions)
	r.Post("/subscriptions/:id/approve", h.adminDecideSubscription("approve"))
	r.Post("/subscriptions/:id/reject", h.adminDecideSubscription("reject"))
	r.Post("/subscriptions/:id/revoke", h.adminDecideSubscription("revoke"))

	r.Get("/orgs", h.adminOrgs)
	r.Post("/orgs", h.adminCreateOrg)
	r.Get("/orgs/:oid", h.adminOrg)
	r.Post("/orgs/:oid/developers", h.adminAddDeveloper)
	r.Post("/orgs/:oid/members/:uid/remove", h.adminRemoveMember)
	r.Get("/apps/:aid", h.adminApp)

	r.Get("/audit", h.adminAudit)
}
