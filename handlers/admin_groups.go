package handlers

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/views/admin"
	"devportal/views/components"
)

// adminGroups lists gateway groups with the create form.
func (h *handler) adminGroups(c fiber.Ctx) error {
	return h.renderGroups(c, fiber.StatusOK, admin.GroupForm{}, nil, nil)
}

func (h *handler) renderGroups(c fiber.Ctx, status int, form admin.GroupForm, errs components.Errors, formErrs []string) error {
	q := readPageQuery(c)
	page, err := h.gw.ListGroups(c.Context(), q.options())
	if err != nil {
		return err
	}
	p := admin.GroupsProps{Layout: layout(c, "Gateway groups", "groups"), Search: q.Search,
		Pagination: q.pagination("/admin/groups", page.Total), Form: form, Errors: errs, FormErrors: formErrs}
	for _, g := range page.List {
		p.Groups = append(p.Groups, h.groupStatus(c, g))
	}
	return render(c, status, admin.Groups(p))
}

// adminCreateGroup creates a gateway group.
func (h *handler) adminCreateGroup(c fiber.Ctx) error {
	form := admin.GroupForm{Name: formValue(c, "name"), Description: formValue(c, "description"),
		Prefix: formValue(c, "prefix"), Endpoints: formValue(c, "etcd_endpoints")}
	g, err := h.gw.CreateGroup(c.Context(), gateway.GroupInput{Name: form.Name, Description: form.Description,
		Prefix: form.Prefix, EtcdEndpoints: splitList(form.Endpoints)})
	if err != nil {
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			return h.renderGroups(c, statusOf(err), form, errs, msgs)
		})
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("Gateway group %q created.", g.Name))
	return redirect(c, "/admin/groups/"+g.ID)
}

// adminGroup shows a group: nodes, services and drift.
func (h *handler) adminGroup(c fiber.Ctx) error {
	ctx, gid := c.Context(), param(c, "gid")
	g, err := h.gw.GetGroup(ctx, gid)
	if err != nil {
		return err
	}
	p := admin.GroupProps{Layout: layout(c, g.Name, "groups"), Group: viewGroup(g)}
	if nodes, err := h.gw.ListNodes(ctx, gid); err != nil {
		h.log.Warn("admin: list nodes", "group", gid, "err", err)
		p.NodesErr = "The nodes could not be listed: etcd did not answer."
	} else {
		for _, n := range nodes {
			p.Nodes = append(p.Nodes, admin.Node{ID: n.ID, Hostname: n.Hostname, Version: n.Version, Address: n.Address,
				Status: n.Status, BootTime: n.BootTime, LastSeen: n.LastSeen})
		}
	}
	svcs, err := h.gw.ListServices(ctx, gid, gateway.ListOptions{Limit: 20})
	if err != nil {
		return err
	}
	p.Total = svcs.Total
	for _, s := range svcs.List {
		p.Services = append(p.Services, viewServiceRow(s))
	}
	// The last check, unless asked for a new one (?check=1) or there is
	// none yet: a check reads the group's whole etcd and portal state.
	rep, ok := h.gw.LastReport(gid)
	if !ok || c.Query("check") != "" {
		rep, err = h.gw.Diff(ctx, gid, h.cfg.State)
	}
	if err != nil {
		h.log.Warn("admin: drift", "group", gid, "err", err)
		p.DriftErr = "Drift could not be checked: etcd did not answer."
	} else {
		p.Checked, p.Drift, p.CheckedAt = rep.Checked, viewDrift(rep.Drift), rep.At
	}
	return render(c, fiber.StatusOK, admin.GroupDetail(p))
}

// adminReconcileGroup repairs the group's etcd from the database now.
func (h *handler) adminReconcileGroup(c fiber.Ctx) error {
	gid := param(c, "gid")
	rep, err := h.gw.Reconcile(c.Context(), gid, h.cfg.State)
	if err != nil {
		return err
	}
	if len(rep.Drift) == 0 {
		flash(c, components.FlashSuccess, fmt.Sprintf("Nothing to repair: %d keys checked, all in sync.", rep.Checked))
	} else {
		flash(c, components.FlashSuccess, fmt.Sprintf("Repaired %d keys of %d that differed.", rep.Repaired, len(rep.Drift)))
	}
	return redirect(c, "/admin/groups/"+gid)
}

func viewGroup(g gateway.Group) admin.Group {
	return admin.Group{ID: g.ID, Name: g.Name, Description: g.Description, Prefix: g.Prefix, EtcdEndpoints: g.EtcdEndpoints, CreatedAt: g.CreatedAt}
}

func viewDrift(list []gateway.Drift) []admin.Drift {
	out := make([]admin.Drift, len(list))
	for i, d := range list {
		out[i] = admin.Drift{Key: d.Key, Kind: d.Kind, ID: d.ID, Issue: d.Issue, Fields: d.Fields}
	}
	return out
}

func viewServiceRow(s gateway.PublishedService) admin.ServiceRow {
	n := len(s.Routes)
	if s.Type == gateway.TypeStream {
		n = len(s.StreamRoutes)
	}
	return admin.ServiceRow{ID: s.ID, GroupID: s.GatewayGroupID, TemplateID: s.TemplateID, Name: s.Name, Type: s.Type,
		Version: s.Version, Routes: n, PublishedAt: s.PublishedAt}
}

// splitList splits a textarea of values on new lines and commas.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// formFailed re-renders a form for input errors (validation: beside the
// fields; conflicts: above the form) and passes anything else on to the
// error page.
func (h *handler) formFailed(c fiber.Ctx, err error, again func(components.Errors, []string) error) error {
	if errs := fieldErrors(err); errs != nil {
		return again(errs, nil)
	}
	status, body := classify(err)
	if status == fiber.StatusConflict || status == fiber.StatusBadRequest {
		return again(nil, []string{upperFirst(body.Message)})
	}
	return err
}

// statusOf is the status a form answers with when err sends it back.
func statusOf(err error) int {
	if fieldErrors(err) != nil {
		return fiber.StatusUnprocessableEntity
	}
	status, _ := classify(err)
	return status
}
