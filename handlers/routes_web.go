package handlers

import "github.com/gofiber/fiber/v3"

// registerWeb registers the server-rendered site: the developer pages and
// the admin side under /admin.
func (h *handler) registerWeb(app *fiber.App) {}
