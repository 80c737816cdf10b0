package handlers

import (
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	httpSwagger "github.com/swaggo/http-swagger/v2"

	_ "devportal/docs" // registers the generated OpenAPI document with swag
)

// registerDocs serves the swagger UI at /api/docs and the document at
// /api/docs/doc.json, all from embedded files, without authentication.
func registerDocs(app *fiber.App) {
	ui := adaptor.HTTPHandler(httpSwagger.Handler(
		httpSwagger.URL("/api/docs/doc.json"),
		httpSwagger.PersistAuthorization(true),
	))
	index := func(c fiber.Ctx) error { return c.Redirect().Status(fiber.StatusFound).To("/api/docs/index.html") }
	app.Get("/api/docs", index)
	app.Get("/api/docs/", index)
	app.Get("/api/docs/*", ui)
}
