package handlers

import "github.com/gofiber/fiber/v3"

// registerDeveloperPages registers the developer side of the site: sign-up
// and OAuth sign-in, the catalog, API pages with try-it, applications with
// their keys and subscriptions, and organizations. Everything under /apps
// and /orgs needs a signed-in developer; the domain calls check that the
// application or organization is theirs (404 otherwise).
func (h *handler) registerDeveloperPages(app *fiber.App) {
	app.Get("/", h.catalogPage)
	app.Get("/signup", h.signupPage)
	lim := h.loginLimiters()
	app.Post("/signup", lim[0], h.signup)
	app.Get("/auth/:provider", h.authBegin)
	app.Get("/auth/:provider/callback", h.authCallback)

	app.Get("/apis/:id", h.apiPage)
	app.Get("/apis/:id/openapi.:ext", h.apiDocument)
	app.Post("/apis/:id/try", h.apiTry)
	app.Post("/apis/:id/subscribe", h.requireSignIn, h.apiSubscribe)

	apps := app.Group("/apps", h.requireSignIn)
	apps.Get("/", h.appsPage)
	apps.Post("/", h.appCreate)
	apps.Get("/:id", h.appPage)
	apps.Post("/:id/rotate", h.appRotate)
	apps.Post("/:id/delete", h.appDelete)
	apps.Post("/:id/subscriptions", h.appSubscribe)
	apps.Post("/:id/subscriptions/:sid/cancel", h.appCancelSubscription)

	orgs := app.Group("/orgs", h.requireSignIn)
	orgs.Post("/switch", h.orgSwitch)
	orgs.Get("/:id/members", h.membersPage)
	orgs.Post("/:id/members", h.memberInvite)
	orgs.Post("/:id/members/:uid/remove", h.memberRemove)
}
