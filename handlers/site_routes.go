package handlers

import (
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/limiter"
)

// Limits of the developer side's open forms, per client address.
const (
	signupMax    = 20
	signupWindow = time.Hour
	tryMax       = 60
	tryWindow    = time.Minute
)

// registerDeveloperPages registers the developer side of the site: sign-up
// and OAuth sign-in, the catalog, API pages with try-it, applications with
// their keys and subscriptions, and organizations. Everything under /apps
// and /orgs needs a signed-in developer; the domain calls check that the
// application or organization is theirs (404 otherwise).
func (h *handler) registerDeveloperPages(app *fiber.App) {
	app.Get("/", h.catalogPage)
	app.Get("/signup", h.signupPage)
	app.Post("/signup", h.signupLimiter(), h.signup)
	app.Get("/auth/:provider", h.authBegin)
	app.Get("/auth/:provider/callback", h.authCallback)

	app.Get("/apis/:id", h.apiPage)
	app.Get("/apis/:id/openapi.:ext", h.apiDocument)
	app.Post("/apis/:id/try", h.tryLimiter(), h.apiTry)
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

// signupLimiter limits account creation per client address.
func (h *handler) signupLimiter() fiber.Handler {
	return limiter.New(limiter.Config{
		Max: signupMax, Expiration: signupWindow,
		KeyGenerator: func(c fiber.Ctx) string { return "signup-ip:" + c.IP() },
		LimitReached: func(c fiber.Ctx) error {
			return &requestError{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
				Message: "Too many accounts were created from your address. Wait an hour, then try again."}
		},
	})
}

// tryLimiter limits try-it calls (each one is a request the server makes).
func (h *handler) tryLimiter() fiber.Handler {
	return limiter.New(limiter.Config{
		Max: tryMax, Expiration: tryWindow,
		KeyGenerator: func(c fiber.Ctx) string { return "try-ip:" + c.IP() },
		LimitReached: func(c fiber.Ctx) error {
			return &requestError{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
				Message: "Too many try-it calls from your address. Wait a minute, then try again."}
		},
	})
}
