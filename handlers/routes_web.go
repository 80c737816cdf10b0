package handlers

import "github.com/gofiber/fiber/v3"

// registerWeb registers the server-rendered site: the developer pages and
// the admin side under /admin. Every site path goes through the session,
// CSRF and current-user middleware (see webMiddleware); /admin also through
// requireAdminPage.
func (h *handler) registerWeb(app *fiber.App) {
	app.Get("/static/*", serveStatic)

	app.Use(h.webMiddleware()...)

	app.Get("/login", h.loginPage)
	lim := h.loginLimiters()
	app.Post("/login", lim[0], lim[1], h.login)
	app.Post("/logout", h.logout)

	// Developer side: site_routes.go.
	h.registerDeveloperPages(app)

	admin := app.Group("/admin", h.requireAdminPage)
	h.registerAdmin(admin)
}
