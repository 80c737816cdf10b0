package handlers

import (
	"net/url"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/listing"
	"devportal/portal/subscriptions"
	"devportal/views/admin"
)

// adminApp shows an application: its consumer, key hints and subscriptions.
func (h *handler) adminApp(c fiber.Ctx) error {
	ctx, act, aid := c.Context(), webActor(c), param(c, "aid")
	a, err := h.cfg.Apps.Get(ctx, act, aid)
	if err != nil {
		return err
	}
	subs, err := h.cfg.Subscriptions.List(ctx, act, subscriptions.Filter{AppID: aid}, listing.Options{Limit: 200})
	if err != nil {
		return err
	}
	p := admin.AppProps{Layout: layout(c, a.Name, "orgs"), App: viewApp(a), Back: url.QueryEscape("/admin/apps/" + aid)}
	if o, err := h.cfg.Orgs.Get(ctx, a.OrgID); err == nil {
		p.OrgName = o.Name
	}
	for _, s := range subs.List {
		p.Subscriptions = append(p.Subscriptions, viewSubscription(s))
	}
	return render(c, fiber.StatusOK, admin.AppDetail(p))
}
