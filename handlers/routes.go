// Package handlers is the HTTP face of the product on gofiber/fiber v3: the
// JSON Admin API under /api/v1, its swagger UI at /api/docs, and the health
// probes. Handlers parse the request, call the domain, render; nothing else.
//
//	@title						devportal Admin API
//	@version					1.0
//	@description				Admin API of the developer portal and its gateway control core: gateway groups, the Service Hub, publishing, runtime configuration, history and rollback, plugin templates, drift and reconciliation; and the portal: portal APIs and their policies, organizations and developers, applications and their keys, subscriptions and their approval, the audit log. Every call needs an admin token in the X-API-KEY header. Errors are {"error": {"code", "message"}}.
//	@BasePath					/api/v1
//	@securityDefinitions.apikey	ApiKeyAuth
//	@in							header
//	@name						X-API-KEY
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"devportal/gateway"
	"devportal/portal/accounts"
	"devportal/portal/apps"
	"devportal/portal/audit"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/signup"
	"devportal/portal/subscriptions"
)

// Defaults of Config.
const (
	DefaultBodyLimit      = 4 << 20 // 4 MiB
	DefaultRequestTimeout = 60 * time.Second
)

// Config is what the handlers need from the rest of the program.
type Config struct {
	// Gateway is the control core the Admin API drives.
	Gateway *gateway.Service
	// Accounts verifies X-API-KEY tokens and signs people in.
	Accounts *accounts.Service
	// The portal's domain services.
	Orgs          *orgs.Service
	Apps          *apps.Service
	Catalog       *catalog.Service
	Subscriptions *subscriptions.Service
	Audit         *audit.Log
	Signup        *signup.Service
	// State is the portal's part of the gateway state, for reconciliation.
	State gateway.StateSource
	// Site configures the web pages.
	Site SiteConfig
	// PingDB checks that the database answers, for /readyz.
	PingDB func(ctx context.Context) error
	// Logger receives request failures; nil means slog.Default().
	Logger *slog.Logger
	// BodyLimit is the largest request body accepted (413 above it);
	// 0 means DefaultBodyLimit.
	BodyLimit int
	// RequestTimeout bounds the work of one request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// SiteConfig configures the server-rendered site.
type SiteConfig struct {
	// BaseURL is the site's public address, for OAuth callbacks and links
	// (default http://localhost:8080).
	BaseURL string
	// GatewayURL is where developers call the APIs (a data plane node or a
	// load balancer in front of them), shown in curl lines and used by
	// try-it (default http://localhost:9080).
	GatewayURL string
	// SecureCookies marks cookies Secure; on when BaseURL is https.
	SecureCookies bool
	// OIDC is a generic OpenID Connect provider; empty Issuer turns it off.
	OIDC OAuthProvider
	// GitHub sign-in; empty ClientID turns it off.
	GitHub OAuthProvider
}

// OAuthProvider is one identity provider's client registration.
type OAuthProvider struct {
	Issuer       string // OIDC only: the issuer URL (discovery at /.well-known/openid-configuration)
	ClientID     string
	ClientSecret string
	Name         string // shown on the sign-in button
}

// handler carries the dependencies of every handler.
type handler struct {
	gw       *gateway.Service
	accounts *accounts.Service
	cfg      Config
	pingDB   func(ctx context.Context) error
	log      *slog.Logger
	timeout  time.Duration
}

// New builds the fiber app with every route registered.
func New(cfg Config) *fiber.App {
	if cfg.Gateway == nil || cfg.Accounts == nil || cfg.PingDB == nil {
		panic("handlers: Config needs Gateway, Accounts and PingDB")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	app := fiber.New(fiber.Config{
		AppName:      "devportal",
		ErrorHandler: errorHandler(cfg.Logger),
		BodyLimit:    cfg.BodyLimit,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 2 * cfg.RequestTimeout,
		IdleTimeout:  2 * time.Minute,
	})
	h := &handler{gw: cfg.Gateway, accounts: cfg.Accounts, cfg: cfg, pingDB: cfg.PingDB, log: cfg.Logger, timeout: cfg.RequestTimeout}
	h.register(app)
	return app
}

// register is the one place where routes are declared.
func (h *handler) register(app *fiber.App) {
	app.Use(recover.New(), h.requestContext)

	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)

	registerDocs(app)

	api := app.Group("/api/v1", h.requireAdmin)

	api.Get("/gateway_groups", h.listGatewayGroups)
	api.Post("/gateway_groups", h.createGatewayGroup)
	api.Get("/gateway_groups/:gid", h.getGatewayGroup)
	api.Get("/gateway_groups/:gid/nodes", h.listGatewayGroupNodes)

	api.Get("/gateway_groups/:gid/services", h.listServices)
	api.Post("/gateway_groups/:gid/services", h.createService)
	api.Get("/gateway_groups/:gid/services/:sid", h.getService)
	api.Put("/gateway_groups/:gid/services/:sid", h.updateService)
	api.Delete("/gateway_groups/:gid/services/:sid", h.deleteService)
	api.Put("/gateway_groups/:gid/services/:sid/runtime", h.updateServiceRuntime)
	api.Get("/gateway_groups/:gid/services/:sid/history", h.listServiceHistory)
	api.Post("/gateway_groups/:gid/services/:sid/rollback", h.rollbackService)

	api.Get("/service_templates", h.listServiceTemplates)
	api.Post("/service_templates", h.createServiceTemplate)
	api.Get("/service_templates/:tid", h.getServiceTemplate)
	api.Put("/service_templates/:tid", h.updateServiceTemplate)
	api.Delete("/service_templates/:tid", h.deleteServiceTemplate)
	api.Post("/service_templates/:tid/publish", h.publishServiceTemplate)

	api.Get("/plugin_templates", h.listPluginTemplates)
	api.Post("/plugin_templates", h.createPluginTemplate)
	api.Get("/plugin_templates/:id", h.getPluginTemplate)
	api.Put("/plugin_templates/:id", h.updatePluginTemplate)
	api.Delete("/plugin_templates/:id", h.deletePluginTemplate)

	// The portal part of the Admin API (handlers/api_portal_*.go).
	h.registerPortalAPI(api)
	// The web site: developer pages and /admin (handlers/web_*.go).
	h.registerWeb(app)
}
