package handlers

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/models"
	"devportal/views/admin"
	"devportal/views/components"
)

// adminServices lists a group's published services.
func (h *handler) adminServices(c fiber.Ctx) error {
	gid := param(c, "gid")
	g, err := h.gw.GetGroup(c.Context(), gid)
	if err != nil {
		return err
	}
	q := readPageQuery(c)
	page, err := h.gw.ListServices(c.Context(), gid, q.options())
	if err != nil {
		return err
	}
	p := admin.ServicesProps{Layout: layout(c, "Services of "+g.Name, "groups"), Group: viewGroup(g), Search: q.Search,
		Pagination: q.pagination("/admin/groups/"+gid+"/services", page.Total)}
	for _, s := range page.List {
		p.Services = append(p.Services, viewServiceRow(s))
	}
	return render(c, fiber.StatusOK, admin.Services(p))
}

// adminService shows a published service with its routes, runtime and history.
func (h *handler) adminService(c fiber.Ctx) error {
	return h.renderService(c, fiber.StatusOK, nil, nil, nil)
}

func (h *handler) renderService(c fiber.Ctx, status int, form *admin.ServiceProps, errs components.Errors, msgs []string) error {
	ctx, gid, sid := c.Context(), param(c, "gid"), param(c, "sid")
	g, err := h.gw.GetGroup(ctx, gid)
	if err != nil {
		return err
	}
	s, err := h.gw.GetService(ctx, gid, sid)
	if err != nil {
		return err
	}
	hist, err := h.gw.History(ctx, gid, sid, gateway.ListOptions{Limit: 50})
	if err != nil {
		return err
	}
	up := s.Spec.Upstream
	if s.Runtime.Upstream != nil {
		up = *s.Runtime.Upstream
	}
	p := admin.ServiceProps{Layout: layout(c, s.Name, "groups"), Group: viewGroup(g), Service: viewServiceRow(s),
		Hosts: s.Runtime.Hosts, PathPrefix: s.Runtime.PathPrefix, Strip: s.Runtime.StripPathPrefix,
		UpstreamNodes: strings.ReplaceAll(nodesText(up.Nodes), "\n", ", "),
		RuntimeHosts:  strings.Join(s.Runtime.Hosts, " "), RuntimePrefix: s.Runtime.PathPrefix, RuntimeStrip: s.Runtime.StripPathPrefix,
		RuntimeErrors: errs, RuntimeMessage: msgs}
	if s.Runtime.Upstream != nil {
		p.RuntimeNodes = nodesText(s.Runtime.Upstream.Nodes)
	}
	if form != nil { // the values sent, on an error
		p.RuntimeNodes, p.RuntimeHosts, p.RuntimePrefix, p.RuntimeStrip = form.RuntimeNodes, form.RuntimeHosts, form.RuntimePrefix, form.RuntimeStrip
	}
	for _, r := range s.Routes {
		p.Routes = append(p.Routes, admin.Route{ID: r.ID, TemplateID: r.TemplateID, Name: r.Name, URIs: r.URIs, Methods: r.Methods})
	}
	for _, r := range s.StreamRoutes {
		p.StreamRoutes = append(p.StreamRoutes, admin.Route{ID: r.ID, TemplateID: r.TemplateID, Name: r.Name, ServerPort: r.ServerPort})
	}
	for _, e := range hist.List {
		p.History = append(p.History, admin.History{ID: e.ID, Version: e.Version, Reason: e.Reason,
			Routes: len(e.Spec.Routes) + len(e.Spec.StreamRoutes), CreatedAt: e.CreatedAt})
	}
	return render(c, status, admin.Service(p))
}

// adminServiceRuntime saves the group's runtime configuration of a service.
func (h *handler) adminServiceRuntime(c fiber.Ctx) error {
	gid, sid := param(c, "gid"), param(c, "sid")
	s, err := h.gw.GetService(c.Context(), gid, sid)
	if err != nil {
		return err
	}
	form := &admin.ServiceProps{RuntimeNodes: formValue(c, "runtime_nodes"), RuntimeHosts: formValue(c, "runtime_hosts"),
		RuntimePrefix: formValue(c, "runtime_path_prefix"), RuntimeStrip: c.FormValue("runtime_strip") != ""}
	rt, err := runtimeFromForm(form.RuntimeNodes, form.RuntimeHosts, form.RuntimePrefix, form.RuntimeStrip, s.Spec.Upstream)
	if err == nil {
		var s gateway.PublishedService
		if s, err = h.gw.UpdateRuntime(c.Context(), gid, sid, rt); err == nil {
			flashPublished(c, s, "Runtime configuration saved and live on this group.")
			return redirect(c, "/admin/groups/"+gid+"/services/"+sid)
		}
	}
	return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
		return h.renderService(c, statusOf(err), form, errs, msgs)
	})
}

// adminServiceRollback republishes a history entry.
func (h *handler) adminServiceRollback(c fiber.Ctx) error {
	gid, sid := param(c, "gid"), param(c, "sid")
	s, err := h.gw.Rollback(c.Context(), gid, sid, gateway.RollbackInput{HistoryID: formValue(c, "history_id")})
	if err != nil {
		return err
	}
	v := s.Version
	if v == "" {
		v = "the earlier state"
	}
	flashPublished(c, s, fmt.Sprintf("Rolled back: %s is live on the group.", v))
	return redirect(c, "/admin/groups/"+gid+"/services/"+sid)
}

// adminDeleteService unpublishes a service from the group.
func (h *handler) adminDeleteService(c fiber.Ctx) error {
	gid, sid := param(c, "gid"), param(c, "sid")
	queued, err := h.gw.DeleteService(c.Context(), gid, sid)
	if err != nil {
		return err
	}
	if queued {
		flash(c, components.FlashWarning, fmt.Sprintf("Service %s is unpublished here, but the group's etcd cannot be reached: "+
			"its removal is queued and happens as soon as etcd is back.", sid))
	} else {
		flash(c, components.FlashSuccess, fmt.Sprintf("Service %s unpublished from the group.", sid))
	}
	return redirect(c, "/admin/groups/"+gid+"/services")
}

// adminNewDirectService shows the form of a service created directly on a
// group (live at once, with no version; its template is created too).
func (h *handler) adminNewDirectService(c fiber.Ctx) error {
	g, err := h.gw.GetGroup(c.Context(), param(c, "gid"))
	if err != nil {
		return err
	}
	gv := viewGroup(g)
	form := admin.TemplateForm{Type: gateway.TypeHTTP, UpstreamType: "roundrobin", Routes: []admin.RouteForm{{}}}
	return h.renderTemplate(c, fiber.StatusOK, templatePage{form: form, direct: &gv})
}

// adminCreateDirectService creates a service directly on a group.
func (h *handler) adminCreateDirectService(c fiber.Ctx) error {
	g, err := h.gw.GetGroup(c.Context(), param(c, "gid"))
	if err != nil {
		return err
	}
	form, sid := readTemplateForm(c), formValue(c, "service_id")
	spec, local := templateSpec(form, models.ServiceSpec{})
	s, err := h.gw.CreateService(c.Context(), g.ID, gateway.DirectServiceInput{ServiceSpec: spec, ServiceID: sid})
	if err = withLocalErrors(err, local); err != nil {
		gv := viewGroup(g)
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			return h.renderTemplate(c, statusOf(err), templatePage{form: form, errs: errs, msgs: msgs, direct: &gv, serviceID: sid})
		})
	}
	flashPublished(c, s, fmt.Sprintf("Service %q is live on %s; its template is in the Service Hub.", s.Name, g.Name))
	return redirect(c, "/admin/groups/"+g.ID+"/services/"+s.ID)
}

// flashPublished confirms a service change, or says it is queued when the
// group's etcd could not be reached.
func flashPublished(c fiber.Ctx, s gateway.PublishedService, live string) {
	if s.Pending {
		flash(c, components.FlashWarning, "Saved, but the group's etcd cannot be reached: the change is queued and "+
			"goes live, in order, as soon as etcd is back. The data plane keeps serving the previous configuration meanwhile.")
		return
	}
	flash(c, components.FlashSuccess, live)
}
