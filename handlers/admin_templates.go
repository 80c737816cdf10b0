package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/models"
	"devportal/views/admin"
	"devportal/views/components"
)

// adminTemplates lists the Service Hub.
func (h *handler) adminTemplates(c fiber.Ctx) error {
	q := readPageQuery(c)
	page, err := h.gw.ListTemplates(c.Context(), q.options())
	if err != nil {
		return err
	}
	names := h.groupNames(c)
	p := admin.TemplatesProps{Layout: layout(c, "Service Hub", "templates"), Search: q.Search, Pagination: q.pagination("/admin/templates", page.Total)}
	for _, t := range page.List {
		n := len(t.Routes)
		if t.Type == gateway.TypeStream {
			n = len(t.StreamRoutes)
		}
		p.Templates = append(p.Templates, admin.TemplateRow{ID: t.ID, Name: t.Name, Type: t.Type, Routes: n,
			Published: viewRefs(t.Published, names), UpdatedAt: t.UpdatedAt})
	}
	return render(c, fiber.StatusOK, admin.Templates(p))
}

// adminNewTemplate shows an empty template form.
func (h *handler) adminNewTemplate(c fiber.Ctx) error {
	form := admin.TemplateForm{Type: gateway.TypeHTTP, UpstreamType: "roundrobin", Routes: []admin.RouteForm{{}}}
	return h.renderTemplate(c, fiber.StatusOK, templatePage{form: form})
}

// adminTemplate shows a template's form, where it runs and the publish form.
func (h *handler) adminTemplate(c fiber.Ctx) error {
	t, err := h.gw.GetTemplate(c.Context(), param(c, "tid"))
	if err != nil {
		return err
	}
	return h.renderTemplate(c, fiber.StatusOK, templatePage{form: templateForm(t), published: t.Published})
}

// templatePage is what the template page shows besides the defaults.
type templatePage struct {
	direct    *admin.Group
	serviceID string
	form      admin.TemplateForm
	errs      components.Errors
	msgs      []string
	published []gateway.PublishedRef
	publish   admin.PublishForm
	pubErrs   components.Errors
	pubMsgs   []string
}

func (h *handler) renderTemplate(c fiber.Ctx, status int, tp templatePage) error {
	ctx := c.Context()
	title := tp.form.Name
	if tp.form.ID == "" {
		title = "New service template"
	}
	nav := "templates"
	if tp.direct != nil {
		title, nav = "New service on "+tp.direct.Name, "groups"
	}
	p := admin.TemplateProps{Layout: layout(c, title, nav), Form: tp.form, Errors: tp.errs, FormErrors: tp.msgs,
		Publish: tp.publish, PublishErrors: tp.pubErrs, PublishMessages: tp.pubMsgs, Direct: tp.direct, ServiceID: tp.serviceID}
	if len(p.Form.Routes) == 0 || p.Form.Routes[len(p.Form.Routes)-1] != (admin.RouteForm{}) {
		p.Form.Routes = append(p.Form.Routes, admin.RouteForm{}) // a blank row to add a route
	}
	plugins, err := h.gw.ListPluginTemplates(ctx, gateway.ListOptions{Limit: 500})
	if err != nil {
		return err
	}
	for _, pt := range plugins.List {
		p.PluginTemplates = append(p.PluginTemplates, components.Option{Value: pt.ID, Label: pt.Name})
	}
	groups, err := h.gw.ListGroups(ctx, gateway.ListOptions{Limit: 500})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, g := range groups.List {
		names[g.ID] = g.Name
		p.Groups = append(p.Groups, components.Option{Value: g.ID, Label: g.Name})
	}
	p.Published = viewRefs(tp.published, names)
	return render(c, status, admin.TemplateEdit(p))
}

// adminCreateTemplate creates a template from the form.
func (h *handler) adminCreateTemplate(c fiber.Ctx) error {
	form := readTemplateForm(c)
	spec, local := templateSpec(form, models.ServiceSpec{})
	t, err := h.gw.CreateTemplate(c.Context(), spec)
	err = withLocalErrors(err, local)
	if err == nil {
		flash(c, components.FlashSuccess, fmt.Sprintf("Service template %q created. Publish a version to run it on a group.", t.Name))
		return redirect(c, "/admin/templates/"+t.ID)
	}
	return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
		return h.renderTemplate(c, statusOf(err), templatePage{form: form, errs: errs, msgs: msgs})
	})
}

// adminUpdateTemplate saves the form over the template; fields the form does
// not show (canary, timeouts, labels, route priorities) are kept.
func (h *handler) adminUpdateTemplate(c fiber.Ctx) error {
	t, err := h.gw.GetTemplate(c.Context(), param(c, "tid"))
	if err != nil {
		return err
	}
	form := readTemplateForm(c)
	form.ID = t.ID
	spec, local := templateSpec(form, t.ServiceSpec)
	_, err = h.gw.UpdateTemplate(c.Context(), t.ID, spec)
	if err = withLocalErrors(err, local); err == nil {
		flash(c, components.FlashSuccess, "Template saved. Groups keep running their published version until you publish again.")
		return redirect(c, "/admin/templates/"+t.ID)
	}
	return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
		return h.renderTemplate(c, statusOf(err), templatePage{form: form, errs: errs, msgs: msgs, published: t.Published})
	})
}

// adminDeleteTemplate deletes a template that runs nowhere.
func (h *handler) adminDeleteTemplate(c fiber.Ctx) error {
	tid := param(c, "tid")
	t, err := h.gw.GetTemplate(c.Context(), tid)
	if err != nil {
		return err
	}
	if err := h.gw.DeleteTemplate(c.Context(), tid); err != nil {
		if status, body := classify(err); status == fiber.StatusConflict {
			flash(c, components.FlashError, upperFirst(body.Message))
			return redirect(c, "/admin/templates/"+tid)
		}
		return err
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("Service template %q deleted.", t.Name))
	return redirect(c, "/admin/templates")
}

// adminPublishTemplate publishes the template's current state to a group.
func (h *handler) adminPublishTemplate(c fiber.Ctx) error {
	t, err := h.gw.GetTemplate(c.Context(), param(c, "tid"))
	if err != nil {
		return err
	}
	pf := admin.PublishForm{GroupID: formValue(c, "gateway_group_id"), Version: formValue(c, "version"), ServiceID: formValue(c, "service_id"),
		Runtime: c.FormValue("set_runtime") != "", RuntimeNodes: formValue(c, "runtime_nodes"), Hosts: formValue(c, "runtime_hosts"),
		PathPrefix: formValue(c, "runtime_path_prefix"), Strip: c.FormValue("runtime_strip") != ""}
	in := gateway.PublishInput{GatewayGroupID: pf.GroupID, Version: pf.Version, ServiceID: pf.ServiceID}
	if pf.Runtime {
		var rt models.Runtime
		rt, err = runtimeFromForm(pf.RuntimeNodes, pf.Hosts, pf.PathPrefix, pf.Strip, t.Upstream)
		in.Runtime = &rt
	}
	if err == nil {
		var svc gateway.PublishedService
		if svc, err = h.gw.Publish(c.Context(), t.ID, in); err == nil {
			flashPublished(c, svc, fmt.Sprintf("Version %s of %q is live on the group as service %s.", svc.Version, t.Name, svc.ID))
			return redirect(c, "/admin/groups/"+svc.GatewayGroupID+"/services/"+svc.ID)
		}
	}
	return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
		return h.renderTemplate(c, statusOf(err), templatePage{form: templateForm(t), published: t.Published, publish: pf, pubErrs: errs, pubMsgs: msgs})
	})
}

// groupNames maps group IDs to names, for lists that show groups.
func (h *handler) groupNames(c fiber.Ctx) map[string]string {
	out := map[string]string{}
	groups, err := h.gw.ListGroups(c.Context(), gateway.ListOptions{Limit: 500})
	if err != nil {
		return out
	}
	for _, g := range groups.List {
		out[g.ID] = g.Name
	}
	return out
}

func viewRefs(refs []gateway.PublishedRef, names map[string]string) []admin.PublishedRef {
	out := make([]admin.PublishedRef, len(refs))
	for i, r := range refs {
		out[i] = admin.PublishedRef{GroupID: r.GatewayGroupID, GroupName: names[r.GatewayGroupID], ServiceID: r.ServiceID, Version: r.Version}
	}
	return out
}

// readTemplateForm reads the template form; route rows left empty are dropped.
func readTemplateForm(c fiber.Ctx) admin.TemplateForm {
	f := admin.TemplateForm{Name: formValue(c, "name"), Description: formValue(c, "description"), Type: formValue(c, "type"),
		UpstreamType: formValue(c, "upstream_type"), Scheme: formValue(c, "upstream_scheme"),
		Nodes: formValue(c, "upstream_nodes"), StreamRoutes: formValue(c, "stream_routes")}
	ids, names, paths := formValues(c, "route_template_id"), formValues(c, "route_name"), formValues(c, "route_paths")
	methods, plugins := formValues(c, "route_methods"), formValues(c, "route_plugin")
	at := func(list []string, i int) string {
		if i < len(list) {
			return list[i]
		}
		return ""
	}
	for i := range names {
		r := admin.RouteForm{TemplateID: at(ids, i), Name: at(names, i), Paths: at(paths, i), Methods: at(methods, i), PluginTemplateID: at(plugins, i)}
		if r.Name == "" && r.Paths == "" && r.Methods == "" {
			continue
		}
		f.Routes = append(f.Routes, r)
	}
	return f
}

// templateForm shows a template in the form.
func templateForm(t gateway.ServiceTemplate) admin.TemplateForm {
	f := admin.TemplateForm{ID: t.ID, Name: t.Name, Description: t.Description, Type: t.Type,
		UpstreamType: t.Upstream.Type, Scheme: t.Upstream.Scheme, Nodes: nodesText(t.Upstream.Nodes)}
	if f.UpstreamType == "" {
		f.UpstreamType = "roundrobin"
	}
	for _, r := range t.Routes {
		f.Routes = append(f.Routes, admin.RouteForm{TemplateID: r.TemplateID, Name: r.Name, Paths: strings.Join(r.Paths, " "),
			Methods: strings.Join(r.Methods, " "), PluginTemplateID: r.PluginTemplateID})
	}
	if len(t.StreamRoutes) > 0 {
		b, _ := json.MarshalIndent(t.StreamRoutes, "", "  ")
		f.StreamRoutes = string(b)
	}
	return f
}

// withLocalErrors merges the form's own parse errors (local) into the
// domain's validation errors, so that every bad field shows at once. A spec
// with local errors has no upstream nodes, so the domain always refuses it
// and creates nothing; its "no nodes" complaint gives way to the form's own.
func withLocalErrors(err error, local *apperr.ValidationError) error {
	if local == nil {
		return err
	}
	fields := map[string]string{}
	for k, v := range fieldErrors(err) {
		if !strings.HasPrefix(k, "upstream.nodes") {
			fields[k] = v
		}
	}
	for k, v := range local.Fields {
		fields[k] = v
	}
	return &apperr.ValidationError{Fields: fields}
}

// templateSpec applies the form to base (the template as stored, or empty).
// Problems the form itself finds (node lines, stream routes JSON) come back
// as local, and the spec then has no nodes (see withLocalErrors).
func templateSpec(f admin.TemplateForm, base models.ServiceSpec) (spec models.ServiceSpec, local *apperr.ValidationError) {
	defer func() {
		if local != nil {
			spec.Upstream.Nodes = nil
		}
	}()
	var v apperr.Validator
	spec = base
	spec.Name, spec.Description, spec.Type = f.Name, f.Description, f.Type
	spec.Upstream.Type, spec.Upstream.Scheme = f.UpstreamType, f.Scheme
	nodes, msg := parseNodes(f.Nodes)
	v.Check(msg == "", "upstream.nodes", "%s", msg)
	if msg == "" && len(nodes) == 0 {
		v.Add("upstream.nodes", "needs at least one node")
	}
	spec.Upstream.Nodes = nodes
	old := map[string]models.RouteSpec{}
	for _, r := range base.Routes {
		old[r.TemplateID] = r
	}
	spec.Routes = nil
	for _, rf := range f.Routes {
		r := old[rf.TemplateID] // keeps description, priority, enabled
		r.TemplateID, r.Name, r.PluginTemplateID = rf.TemplateID, rf.Name, rf.PluginTemplateID
		r.Paths, r.Methods = splitWords(rf.Paths), splitWords(strings.ToUpper(rf.Methods))
		spec.Routes = append(spec.Routes, r)
	}
	spec.StreamRoutes = nil
	if f.StreamRoutes != "" {
		if err := json.Unmarshal([]byte(f.StreamRoutes), &spec.StreamRoutes); err != nil {
			v.Add("stream_routes", "is not a JSON array of stream routes: %v", err)
		}
	}
	if err := v.Err(); err != nil {
		local = err.(*apperr.ValidationError)
	}
	return spec, local
}

// parseNodes reads "host:port [weight]" lines.
func parseNodes(text string) ([]models.NodeSpec, string) {
	var out []models.NodeSpec
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(strings.ReplaceAll(line, ",", " "))
		if len(fields) == 0 {
			continue
		}
		host, portText, ok := cutLast(fields[0], ":")
		port, err := strconv.Atoi(portText)
		if !ok || host == "" || err != nil {
			return nil, fmt.Sprintf("line %d: want host:port, got %q", i+1, fields[0])
		}
		n := models.NodeSpec{Host: strings.Trim(host, "[]"), Port: port, Weight: 1}
		if len(fields) > 1 {
			w, err := strconv.Atoi(fields[1])
			if err != nil || w < 0 {
				return nil, fmt.Sprintf("line %d: the weight %q is not a whole number", i+1, fields[1])
			}
			n.Weight = w
		}
		if len(fields) > 2 {
			return nil, fmt.Sprintf("line %d: want host:port and an optional weight only", i+1)
		}
		out = append(out, n)
	}
	return out, ""
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func nodesText(nodes []models.NodeSpec) string {
	var b strings.Builder
	for _, n := range nodes {
		host := n.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		fmt.Fprintf(&b, "%s:%d", host, n.Port)
		if n.Weight != 1 {
			fmt.Fprintf(&b, " %d", n.Weight)
		}
		b.WriteString("\n")
	}
	return strings.TrimSpace(b.String())
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' || r == '\r' })
}

// runtimeFromForm builds a runtime configuration; nodes replace base's nodes
// (keeping its other upstream settings) when given.
func runtimeFromForm(nodesText, hosts, prefix string, strip bool, base models.UpstreamSpec) (models.Runtime, error) {
	rt := models.Runtime{Hosts: splitWords(hosts), PathPrefix: prefix, StripPathPrefix: strip}
	if strings.TrimSpace(nodesText) != "" {
		nodes, msg := parseNodes(nodesText)
		if msg != "" {
			return rt, apperr.Invalid("runtime.upstream", "%s", msg)
		}
		up := base
		up.Nodes = nodes
		rt.Upstream = &up
	}
	return rt, nil
}
