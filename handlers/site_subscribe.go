package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/portal/subscriptions"
)

// apiSubscribe requests a subscription of one of the organization's
// applications to the API, from the API page.
func (h *handler) apiSubscribe(c fiber.Ctx) error {
	apiID := strings.Clone(c.Params("id"))
	appID := formValue(c, "app_id")
	if appID == "" {
		flash(c, "error", "Choose an application to subscribe.")
		return redirect(c, "/apis/"+apiID)
	}
	sub, err := h.cfg.Subscriptions.Request(c, webActor(c), appID, apiID)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		flash(c, "error", msg)
		return redirect(c, "/apis/"+apiID)
	}
	flashRequested(c, sub)
	return redirect(c, "/apps/"+sub.AppID)
}

func flashRequested(c fiber.Ctx, sub subscriptions.Subscription) {
	if sub.Status == subscriptions.Approved {
		flash(c, "success", "Subscribed to "+sub.APIName+": approved, the key works for it now.")
	} else {
		flash(c, "info", "Access to "+sub.APIName+" requested: it is pending until an administrator approves it.")
	}
}

// appSubscribe requests a subscription from the application's page.
func (h *handler) appSubscribe(c fiber.Ctx) error {
	appID := strings.Clone(c.Params("id"))
	if _, err := h.cfg.Apps.Get(c, webActor(c), appID); err != nil {
		return err
	}
	apiID := formValue(c, "api_id")
	if apiID == "" {
		return h.renderApp(c, appID, fiber.StatusUnprocessableEntity, map[string]string{"api_id": "Choose an API."}, "")
	}
	sub, err := h.cfg.Subscriptions.Request(c, webActor(c), appID, apiID)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		return h.renderApp(c, appID, fiber.StatusUnprocessableEntity, map[string]string{"api_id": msg}, apiID)
	}
	flashRequested(c, sub)
	return redirect(c, "/apps/"+appID)
}

// appCancelSubscription cancels one of the application's subscriptions.
func (h *handler) appCancelSubscription(c fiber.Ctx) error {
	appID, subID := strings.Clone(c.Params("id")), strings.Clone(c.Params("sid"))
	sub, err := h.cfg.Subscriptions.Get(c, webActor(c), subID)
	if err != nil {
		return err
	}
	if sub.AppID != appID {
		return fiber.ErrNotFound
	}
	if _, err := h.cfg.Subscriptions.Cancel(c, webActor(c), subID); err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		flash(c, "error", msg)
		return redirect(c, "/apps/"+appID)
	}
	flash(c, "success", "Subscription to "+sub.APIName+" cancelled: the key no longer works for it.")
	return redirect(c, "/apps/"+appID)
}
