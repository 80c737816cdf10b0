package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/portal/catalog"
	"devportal/views/site"
)

// catalogPage is / : the published APIs, searchable, with their policies.
func (h *handler) catalogPage(c fiber.Ctx) error {
	q := readPageQuery(c)
	q.Size = 24
	page, err := h.cfg.Catalog.List(c, catalog.Filter{PublishedOnly: true}, q.options())
	if err != nil {
		return err
	}
	list := make([]site.API, 0, len(page.List))
	for _, a := range page.List {
		list = append(list, siteAPI(a))
	}
	return render(c, fiber.StatusOK, site.Catalog(site.CatalogProps{
		Layout: h.siteLayout(c, "APIs", "catalog"), Search: q.Search, APIs: list, Pagination: q.pagination("/", page.Total),
	}))
}
