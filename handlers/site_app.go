package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/listing"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
	"devportal/views/components"
	"devportal/views/site"
)

// appPage is /apps/{id}: the application's consumer, keys and subscriptions.
func (h *handler) appPage(c fiber.Ctx) error {
	return h.renderApp(c, strings.Clone(c.Params("id")), fiber.StatusOK, nil, "")
}

func (h *handler) renderApp(c fiber.Ctx, appID string, status int, subErrs components.Errors, apiID string) error {
	app, err := h.cfg.Apps.Get(c, webActor(c), appID)
	if err != nil {
		return err
	}
	subs, err := h.cfg.Subscriptions.List(c, webActor(c), subscriptions.Filter{AppID: appID}, listing.Options{Limit: 200})
	if err != nil {
		return err
	}
	p := site.AppProps{Layout: h.siteLayout(c, app.Name, "apps"), App: siteApp(app), SubErrors: subErrs, APIID: apiID}
	taken := map[string]bool{}
	for _, s := range subs.List {
		p.Subs = append(p.Subs, siteSub(s))
		if s.Status == subscriptions.Pending || s.Status == subscriptions.Approved {
			taken[s.APIID] = true
		}
	}
	apis, err := h.cfg.Catalog.List(c, catalog.Filter{PublishedOnly: true}, listing.Options{Limit: 200})
	if err != nil {
		return err
	}
	for _, a := range apis.List {
		if a.NeedsSubscription() && !taken[a.ID] {
			p.APIs = append(p.APIs, siteAPI(a))
		}
	}
	return render(c, status, site.AppPage(p))
}

// Grace periods the rotate form offers, in seconds.
var graceChoices = map[string]time.Duration{"0": 0, "3600": time.Hour, "86400": 24 * time.Hour, "604800": 7 * 24 * time.Hour}

// appRotate replaces the application's key and shows the new one once; the
// old one keeps working for the chosen grace period.
func (h *handler) appRotate(c fiber.Ctx) error {
	appID := strings.Clone(c.Params("id"))
	app, err := h.cfg.Apps.Get(c, webActor(c), appID)
	if err != nil {
		return err
	}
	grace, ok := graceChoices[formValue(c, "grace")]
	if !ok {
		flash(c, "error", "Choose a grace period from the list.")
		return redirect(c, "/apps/"+appID)
	}
	key, err := h.cfg.Apps.RotateKey(c, webActor(c), appID, grace)
	if err != nil {
		if msg, ok := userMessage(err); ok {
			flash(c, "error", msg)
			return redirect(c, "/apps/"+appID)
		}
		return err
	}
	if app, err = h.cfg.Apps.Get(c, webActor(c), appID); err != nil {
		return err
	}
	lp := h.siteLayout(c, "New key", "apps")
	if grace > 0 {
		lp.Flashes = append(lp.Flashes, components.Flash{Kind: "info", Text: "The old key keeps working for " + graceText(grace) + "."})
	} else {
		lp.Flashes = append(lp.Flashes, components.Flash{Kind: "info", Text: "The old key no longer works."})
	}
	return render(c, fiber.StatusOK, site.KeyOnce(site.KeyOnceProps{Layout: lp, App: siteApp(app), Key: key, Rotated: true}))
}

func graceText(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		n := int(d / (24 * time.Hour))
		return strconv.Itoa(n) + " " + countWord(n, "day")
	default:
		n := int(d / time.Hour)
		return strconv.Itoa(n) + " " + countWord(n, "hour")
	}
}

// appDelete deletes the application (after the page's confirmation).
func (h *handler) appDelete(c fiber.Ctx) error {
	appID := strings.Clone(c.Params("id"))
	app, err := h.cfg.Apps.Get(c, webActor(c), appID)
	if err != nil {
		return err
	}
	if err := h.cfg.Apps.Delete(c, webActor(c), appID); err != nil {
		if msg, ok := userMessage(err); ok {
			flash(c, "error", msg)
			return redirect(c, "/apps/"+appID)
		}
		return err
	}
	flash(c, "success", "Application "+app.Name+" deleted; its keys no longer work.")
	return redirect(c, "/apps")
}
