package handlers

import "github.com/gofiber/fiber/v3"

// registerAdmin registers the admin side's pages on the /admin group, which
// requireAdminPage guards. Every page needs the portal's services.
func (h *handler) registerAdmin(r fiber.Router) {
	r.Use(h.needPortal)
	r.Get("/", h.adminDashboard)
}
