package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/portal/apps"
	"devportal/views/components"
	"devportal/views/site"
)

// appsPage is /apps: the current organization's applications and the form
// that creates one.
func (h *handler) appsPage(c fiber.Ctx) error {
	return h.renderApps(c, fiber.StatusOK, "", "", nil)
}

func (h *handler) renderApps(c fiber.Ctx, status int, name, desc string, errs components.Errors) error {
	org, err := h.currentOrg(c)
	if err != nil {
		return err
	}
	q := readPageQuery(c)
	page, err := h.cfg.Apps.List(c, webActor(c), org.ID, q.options())
	if err != nil {
		return err
	}
	list := make([]site.App, 0, len(page.List))
	for _, a := range page.List {
		list = append(list, siteApp(a))
	}
	return render(c, status, site.Apps(site.AppsProps{Layout: h.siteLayout(c, "Applications", "apps"), Org: org, Apps: list,
		Name: name, Desc: desc, Errors: errs, Pagination: q.pagination("/apps", page.Total)}))
}

// appCreate creates an application in the current organization and shows
// its key once.
func (h *handler) appCreate(c fiber.Ctx) error {
	org, err := h.currentOrg(c)
	if err != nil {
		return err
	}
	in := apps.Input{Name: formValue(c, "name"), Description: formValue(c, "description")}
	created, err := h.cfg.Apps.Create(c, webActor(c), org.ID, in)
	if err != nil {
		if errs := fieldErrors(err); errs != nil {
			return h.renderApps(c, fiber.StatusUnprocessableEntity, in.Name, in.Description, errs)
		}
		if msg, ok := userMessage(err); ok {
			return h.renderApps(c, fiber.StatusUnprocessableEntity, in.Name, in.Description, components.Errors{"name": msg})
		}
		return err
	}
	return render(c, fiber.StatusCreated, site.KeyOnce(site.KeyOnceProps{
		Layout: h.siteLayout(c, "Your new key", "apps"), App: siteApp(created.App), Key: created.APIKey,
	}))
}
