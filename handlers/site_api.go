package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/listing"
	"devportal/portal/subscriptions"
	"devportal/views/site"
)

// apiPage is /apis/{id}: the API's policies, a curl line, subscribe,
// try-it and its OpenAPI document rendered here.
func (h *handler) apiPage(c fiber.Ctx) error {
	p, err := h.apiProps(c, strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, site.APIPage(p))
}

// apiProps builds the API page for the visitor (the try-it part empty).
func (h *handler) apiProps(c fiber.Ctx, id string) (site.APIProps, error) {
	api, err := h.cfg.Catalog.Get(c, id, true)
	if err != nil {
		return site.APIProps{}, err
	}
	p := site.APIProps{API: siteAPI(api), AppID: queryValue(c, "app")}
	doc, raw, format, err := h.cfg.Catalog.Document(c, id, true)
	switch {
	case err != nil && raw == "":
		return site.APIProps{}, err
	case err != nil:
		p.DocError = "The OpenAPI document could not be read: " + err.Error()
	case doc != nil:
		p.Doc = docView(doc)
	}
	if raw != "" {
		p.RawURL = "/apis/" + id + "/openapi." + format
	}
	path := "/"
	if len(api.URIs) > 0 {
		path = examplePath(api.URIs[0])
	}
	p.GatewayURL = strings.TrimRight(h.gatewayURL(), "/") + path
	p.Try = site.TryIt{Method: "GET", Path: path}
	if len(api.Methods) > 0 {
		p.Try.Method = api.Methods[0]
	}
	if currentUser(c) != nil {
		p.SignedIn = true
		if org, err := h.currentOrg(c); err == nil {
			list, err := h.cfg.Apps.List(c, webActor(c), org.ID, listing.Options{Limit: 100})
			if err != nil {
				return site.APIProps{}, err
			}
			for _, a := range list.List {
				p.Apps = append(p.Apps, siteApp(a))
			}
			subs, err := h.cfg.Subscriptions.List(c, webActor(c), subscriptions.Filter{OrgID: org.ID, APIID: id}, listing.Options{Limit: 100})
			if err != nil {
				return site.APIProps{}, err
			}
			for _, s := range subs.List {
				p.Subs = append(p.Subs, siteSub(s))
			}
		}
	}
	p.Layout = h.siteLayout(c, api.Name, "catalog")
	return p, nil
}

// examplePath turns a route URI into a path to call: a trailing wildcard
// and path parameters are dropped.
func examplePath(uri string) string {
	uri = strings.TrimSuffix(uri, "*")
	if uri == "" {
		return "/"
	}
	return uri
}

func (h *handler) gatewayURL() string {
	return orDefaultStr(h.cfg.Site.GatewayURL, "http://localhost:9080")
}

// apiDocument answers the raw OpenAPI document as uploaded.
func (h *handler) apiDocument(c fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	ext := strings.Clone(c.Params("ext"))
	_, raw, format, err := h.cfg.Catalog.Document(c, id, true)
	if raw == "" {
		if err != nil {
			return err
		}
		return fiber.ErrNotFound
	}
	if ext != format {
		return redirect(c, "/apis/"+id+"/openapi."+format)
	}
	ct := "application/yaml"
	if format == "json" {
		ct = "application/json"
	}
	c.Set(fiber.HeaderContentType, ct+"; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="openapi-`+id+`.`+format+`"`)
	return c.SendString(raw)
}
