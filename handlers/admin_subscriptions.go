package handlers

import (
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v3"

	"devportal/portal/subscriptions"
	"devportal/views/admin"
	"devportal/views/components"
)

var subscriptionTabs = []struct{ status, label string }{
	{subscriptions.Pending, "Pending"}, {subscriptions.Approved, "Approved"}, {subscriptions.Rejected, "Rejected"},
	{subscriptions.Revoked, "Revoked"}, {subscriptions.Cancelled, "Cancelled"}, {"all", "All"},
}

// tabCountCap is where the tabs' counts stop ("1000+"): six counts on
// every view of the queue, each reads at most this many index entries.
const tabCountCap = 1000

// adminSubscriptions is the queue: pending requests by default, other states
// by tab, optionally of one API (?api=) or application (?app=).
func (h *handler) adminSubscriptions(c fiber.Ctx) error {
	ctx, act := c.Context(), webActor(c)
	status := queryValue(c, "status")
	if status == "" {
		status = subscriptions.Pending
	}
	f := subscriptions.Filter{APIID: queryValue(c, "api"), AppID: queryValue(c, "app")}
	base := url.Values{}
	p := admin.SubscriptionsProps{Layout: layout(c, "Subscriptions", "subscriptions"), Status: status}
	if f.APIID != "" {
		base.Set("api", f.APIID)
		p.FilterNote, p.ClearHref = "the subscriptions of one API", "/admin/subscriptions?status="+url.QueryEscape(status)
		if a, err := h.cfg.Catalog.Get(ctx, f.APIID, false); err == nil {
			p.FilterNote = "the subscriptions of API " + a.Name
		}
	}
	if f.AppID != "" {
		base.Set("app", f.AppID)
		p.FilterNote, p.ClearHref = "the subscriptions of one application", "/admin/subscriptions?status="+url.QueryEscape(status)
	}
	counts, err := h.cfg.Subscriptions.Counts(ctx, act, f, tabCountCap)
	if err != nil {
		return err
	}
	for _, t := range subscriptionTabs {
		n := counts[t.status]
		if t.status == "all" {
			n = counts[""]
		}
		more := n > tabCountCap
		n = min(n, tabCountCap)
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("status", t.status)
		p.Tabs = append(p.Tabs, admin.StatusTab{Status: t.status, Label: t.label, Count: n, More: more, Href: "/admin/subscriptions?" + q.Encode()})
	}
	if status != "all" {
		f.Status = status
	}
	pq := readPageQuery(c)
	page, err := h.cfg.Subscriptions.List(ctx, act, f, pq.options())
	if err != nil {
		if fieldErrors(err) != nil { // an unknown ?status=
			return fiber.NewError(fiber.StatusBadRequest, "unknown status "+status)
		}
		return err
	}
	base.Set("status", status)
	self := "/admin/subscriptions?" + base.Encode()
	p.Pagination = pq.pagination(self, page.Total)
	if pq.Page > 1 {
		self = withQuery(self, "page", fmt.Sprint(pq.Page))
	}
	p.Back = url.QueryEscape(self)
	for _, s := range page.List {
		p.Subscriptions = append(p.Subscriptions, viewSubscription(s))
	}
	return render(c, fiber.StatusOK, admin.Subscriptions(p))
}

// adminDecideSubscription approves, rejects or revokes a subscription, then
// returns to the page it came from (?back=, local only).
func (h *handler) adminDecideSubscription(verb string) fiber.Handler {
	return func(c fiber.Ctx) error {
		ctx, act, id, reason := c.Context(), webActor(c), param(c, "id"), formValue(c, "reason")
		var s subscriptions.Subscription
		var err error
		switch verb {
		case "approve":
			s, err = h.cfg.Subscriptions.Approve(ctx, act, id)
		case "reject":
			s, err = h.cfg.Subscriptions.Reject(ctx, act, id, reason)
		case "revoke":
			s, err = h.cfg.Subscriptions.Revoke(ctx, act, id, reason)
		}
		back := safeNext(queryValue(c, "back"), "/admin/subscriptions")
		if err != nil {
			status, body := classify(err)
			if status == fiber.StatusConflict || status == fiber.StatusBadRequest {
				flash(c, components.FlashError, upperFirst(body.Message)+".")
				return redirect(c, back)
			}
			return err
		}
		msg := map[string]string{
			"approve": "Approved: %s can call %s now.",
			"reject":  "Rejected the request of %s to %s.",
			"revoke":  "Revoked: %s's key no longer works for %s.",
		}[verb]
		flash(c, components.FlashSuccess, fmt.Sprintf(msg, s.AppName, s.APIName))
		return redirect(c, back)
	}
}
