package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/listing"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
	"devportal/views/admin"
)

// adminDashboard shows counts, the pending subscriptions and each group's
// data plane nodes.
func (h *handler) adminDashboard(c fiber.Ctx) error {
	ctx, act := c.Context(), webActor(c)
	one := listing.Options{Limit: 1}
	groups, err := h.gw.ListGroups(ctx, gateway.ListOptions{Limit: 50})
	if err != nil {
		return err
	}
	tpls, err := h.gw.ListTemplates(ctx, one)
	if err != nil {
		return err
	}
	apis, err := h.cfg.Catalog.List(ctx, catalog.Filter{}, one)
	if err != nil {
		return err
	}
	orgList, err := h.cfg.Orgs.List(ctx, one)
	if err != nil {
		return err
	}
	pending, err := h.cfg.Subscriptions.List(ctx, act, subscriptions.Filter{Status: subscriptions.Pending}, listing.Options{Limit: 10})
	if err != nil {
		return err
	}
	p := admin.DashboardProps{
		Layout: layout(c, "Dashboard", "dashboard"),
		Groups: groups.Total, Templates: tpls.Total, APIs: apis.Total, Organizations: orgList.Total, Pending: pending.Total,
	}
	if b, err := h.gw.OutboxBacklog(ctx); err != nil {
		h.log.Warn("admin: outbox backlog", "err", err)
	} else if b.Waiting > 0 {
		p.Backlog = &admin.Backlog{Waiting: b.Waiting, Since: b.Since, LastError: b.LastError}
	}
	for _, s := range pending.List {
		p.PendingList = append(p.PendingList, viewSubscription(s))
	}
	for _, g := range groups.List {
		p.GroupStatus = append(p.GroupStatus, h.groupStatus(c, g))
	}
	return render(c, fiber.StatusOK, admin.Dashboard(p))
}

// groupStatus counts a group's nodes online and offline.
func (h *handler) groupStatus(c fiber.Ctx, g gateway.Group) admin.GroupStatus {
	st := admin.GroupStatus{ID: g.ID, Name: g.Name, Prefix: g.Prefix}
	nodes, err := h.gw.ListNodes(c.Context(), g.ID)
	if err != nil {
		h.log.Warn("admin: list nodes", "group", g.ID, "err", err)
		st.Err = "etcd did not answer"
		return st
	}
	for _, n := range nodes {
		if n.Status == gateway.NodeOnline {
			st.Online++
		} else {
			st.Offline++
		}
	}
	return st
}

func viewSubscription(s subscriptions.Subscription) admin.Subscription {
	return admin.Subscription{ID: s.ID, Status: s.Status, Reason: s.Reason, AppID: s.AppID, AppName: s.AppName,
		OrgID: s.OrgID, APIID: s.APIID, APIName: s.APIName, CreatedAt: s.CreatedAt, DecidedAt: s.DecidedAt}
}
