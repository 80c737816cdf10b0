package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v3"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/internal/portaltest"
	"devportal/portal"
	"devportal/portal/apps"
	"devportal/portal/audit"
	"devportal/portal/catalog"
	"devportal/portal/gatewaystate"
)

// siteDoc is an OpenAPI document with tags, parameters, a request body,
// responses with schemas and examples.
const siteDoc = `openapi: 3.0.3
info: {title: Widgets, version: "2.1", description: Widgets for everyone}
tags:
  - {name: widgets, description: Make and list widgets}
paths:
  /widgets:
    get:
      tags: [widgets]
      summary: List widgets
      parameters:
        - {name: limit, in: query, description: How many at most, schema: {type: integer, format: int32}, example: 10}
      responses:
        "200":
          description: The widgets
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Widget"}}
    post:
      tags: [widgets]
      summary: Make a widget
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Widget"}
            example: {id: 7, name: sprocket}
      responses:
        "201": {description: Made}
        "400": {description: Bad widget}
  /health:
    get:
      summary: Health check
      responses:
        "200": {description: OK}
components:
  schemas:
    Widget:
      type: object
      required: [name]
      properties:
        id: {type: integer, format: int64, description: The widget's number}
        name: {type: string, description: What it is called}
`

// siteEnv is the site with its Site configuration and an upstream that
// echoes, behind the World's group.
type siteEnv struct {
	*webEnv
	up *httptest.Server
}

func newSiteEnv(t *testing.T, db *gorm.DB, site handlers.SiteConfig) *siteEnv {
	t.Helper()
	w := portaltest.New(t, db, member)
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("X-Upstream", "yes")
		fmt.Fprintf(rw, "upstream %s %s key=%s", r.Method, r.URL.Path, r.Header.Get("apikey"))
	}))
	t.Cleanup(up.Close)
	return &siteEnv{webEnv: &webEnv{World: w, app: newSiteApp(t, w, db, site)}, up: up}
}

// newSiteApp is the site on the World's domain with site as its configuration.
func newSiteApp(t *testing.T, w *portaltest.World, db *gorm.DB, site handlers.SiteConfig) *fiber.App {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return handlers.New(handlers.Config{
		Gateway: w.Gateway, Accounts: w.Accounts, Orgs: w.Orgs, Apps: w.Apps, Catalog: w.Catalog,
		Subscriptions: w.Subs, Audit: audit.New(db), Signup: w.Signup, State: gatewaystate.New(db, w.Apps),
		PingDB: sqlDB.PingContext, Site: site,
	})
}

func (e *siteEnv) upPort() int { return e.up.Listener.Addr().(*net.TCPAddr).Port }

// newAPI publishes a service at path and puts it on the portal.
func (e *siteEnv) newAPI(t *testing.T, name, path, auth, approval string, limit *gateway.RateLimit, publish bool) catalog.API {
	t.Helper()
	svc := e.PublishService(t, dbtest.Name(name), path, "127.0.0.1", e.upPort())
	a, err := e.Catalog.Create(e.Ctx, e.Admin, catalog.Input{GatewayGroupID: e.Group.ID, ServiceID: svc.ID, RouteID: svc.Routes[0].ID,
		Name: name, Description: "The " + name + " API", OpenAPI: siteDoc, Auth: auth, Approval: approval, RateLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	if publish {
		if a, err = e.Catalog.Publish(e.Ctx, e.Admin, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// developer is a developer of a new organization (its admin), signed in.
type developer struct {
	actor portal.Actor
	email string
	orgID string
	b     *browser
}

func (e *siteEnv) developer(t *testing.T, ip string) developer {
	t.Helper()
	email := dbtest.Name("dev") + "@example.com"
	actor, orgID := e.Developer(t, email)
	b := e.browser(t)
	b.ip = ip
	b.login(email, devPassword)
	return developer{actor: actor, email: email, orgID: orgID, b: b}
}

func (e *siteEnv) newApp(t *testing.T, d developer, name string) apps.Created {
	t.Helper()
	c, err := e.Apps.Create(e.Ctx, d.actor, d.orgID, apps.Input{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
