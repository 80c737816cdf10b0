package handlers

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/portal/catalog"
	"devportal/views/admin"
	"devportal/views/components"
)

// maxOpenAPIFile bounds an uploaded OpenAPI document.
const maxOpenAPIFile = 2 << 20

// adminAPIs lists portal APIs.
func (h *handler) adminAPIs(c fiber.Ctx) error {
	q := readPageQuery(c)
	page, err := h.cfg.Catalog.List(c.Context(), catalog.Filter{}, q.options())
	if err != nil {
		return err
	}
	names := h.groupNames(c)
	p := admin.APIsProps{Layout: layout(c, "Portal APIs", "apis"), Search: q.Search, Pagination: q.pagination("/admin/apis", page.Total)}
	for _, a := range page.List {
		p.APIs = append(p.APIs, viewAPI(a, names))
	}
	return render(c, fiber.StatusOK, admin.APIs(p))
}

func viewAPI(a catalog.API, groupNames map[string]string) admin.API {
	v := admin.API{ID: a.ID, Name: a.Name, Description: a.Description, GroupID: a.GatewayGroupID, GroupName: groupNames[a.GatewayGroupID],
		ServiceID: a.ServiceID, ServiceName: a.ServiceName, RouteID: a.RouteID, Auth: a.Auth, Approval: a.Approval,
		Published: a.Published, Available: a.Available, URIs: a.URIs, UpdatedAt: a.UpdatedAt}
	if a.RateLimit != nil {
		v.RateLimit = fmt.Sprintf("%d req / %d s", a.RateLimit.Count, a.RateLimit.TimeWindow)
	}
	return v
}

// adminNewAPI shows an empty portal API form.
func (h *handler) adminNewAPI(c fiber.Ctx) error {
	form := admin.APIForm{Auth: catalog.AuthKey, Approval: catalog.ApprovalMan, Target: queryValue(c, "target")}
	return h.renderAPI(c, fiber.StatusOK, form, nil, nil, nil)
}

// adminAPI shows a portal API's form and actions.
func (h *handler) adminAPI(c fiber.Ctx) error {
	id := param(c, "id")
	a, err := h.cfg.Catalog.Get(c.Context(), id, false)
	if err != nil {
		return err
	}
	_, text, _, err := h.cfg.Catalog.Document(c.Context(), id, false)
	if err != nil && fieldErrors(err) == nil {
		return err
	}
	form := admin.APIForm{ID: a.ID, Name: a.Name, Description: a.Description, Target: targetKey(a.GatewayGroupID, a.ServiceID, a.RouteID),
		OpenAPI: text, Auth: a.Auth, Approval: a.Approval}
	if a.RateLimit != nil {
		form.RateCount, form.RateWindow = strconv.Itoa(a.RateLimit.Count), strconv.Itoa(a.RateLimit.TimeWindow)
	}
	return h.renderAPI(c, fiber.StatusOK, form, &a, nil, nil)
}

func (h *handler) renderAPI(c fiber.Ctx, status int, form admin.APIForm, a *catalog.API, errs components.Errors, msgs []string) error {
	title := "Put an API on the portal"
	var view *admin.API
	if a != nil {
		title = a.Name
		v := viewAPI(*a, h.groupNames(c))
		view = &v
	}
	search := queryValue(c, "target_search")
	targets, cut, err := h.apiTargets(c, search)
	if err != nil {
		return err
	}
	// The API's own target stays selectable: marked when its route is gone.
	if form.Target != "" && !hasOption(targets, form.Target) {
		label := strings.ReplaceAll(form.Target, "|", " / ")
		if parts := strings.SplitN(form.Target, "|", 3); len(parts) == 3 {
			if _, err := h.gw.LookupTarget(c.Context(), gateway.TargetRef{GroupID: parts[0], ServiceID: parts[1], RouteID: parts[2]}); err != nil {
				label += " (not on the gateway)"
			}
		}
		targets = append([]components.Option{{Value: form.Target, Label: label}}, targets...)
	}
	return render(c, status, admin.APIEdit(admin.APIProps{Layout: layout(c, title, "apis"), Form: form, API: view, Targets: targets,
		TargetSearch: search, TargetsCut: cut, Errors: errs, FormErrors: msgs}))
}

// maxTargetServices is how many services of each group the API form lists
// as targets (each with its routes); a search narrows them.
const maxTargetServices = 50

// apiTargets lists published services and their routes as form choices: the
// first maxTargetServices of each group by name, matching search; cut tells
// that some were left out.
func (h *handler) apiTargets(c fiber.Ctx, search string) (out []components.Option, cut bool, err error) {
	ctx := c.Context()
	groups, err := h.gw.ListGroups(ctx, gateway.ListOptions{Limit: 500})
	if err != nil {
		return nil, false, err
	}
	for _, g := range groups.List {
		svcs, err := h.gw.ListServices(ctx, g.ID, gateway.ListOptions{Limit: maxTargetServices, Search: search})
		if err != nil {
			return nil, false, err
		}
		cut = cut || svcs.Total > int64(len(svcs.List))
		for _, s := range svcs.List {
			if s.Type == gateway.TypeStream {
				continue
			}
			out = append(out, components.Option{Value: targetKey(g.ID, s.ID, ""), Label: g.Name + " / " + s.Name + " (whole service)"})
			for _, r := range s.Routes {
				out = append(out, components.Option{Value: targetKey(g.ID, s.ID, r.ID),
					Label: g.Name + " / " + s.Name + " / " + r.Name + "  " + strings.Join(r.URIs, " ")})
			}
		}
	}
	return out, cut, nil
}

func targetKey(gid, sid, rid string) string { return gid + "|" + sid + "|" + rid }

func hasOption(list []components.Option, v string) bool {
	for _, o := range list {
		if o.Value == v {
			return true
		}
	}
	return false
}

// readAPIForm reads the form, the uploaded document winning over the textarea.
func readAPIForm(c fiber.Ctx) (admin.APIForm, catalog.Input, error) {
	f := admin.APIForm{ID: param(c, "id"), Name: formValue(c, "name"), Description: formValue(c, "description"), Target: formValue(c, "target"),
		OpenAPI: formValue(c, "openapi"), Auth: formValue(c, "auth"), Approval: formValue(c, "approval"),
		RateCount: formValue(c, "rate_count"), RateWindow: formValue(c, "rate_window")}
	var v apperr.Validator
	if fh, err := c.FormFile("openapi_file"); err == nil && fh.Size > 0 {
		if fh.Size > maxOpenAPIFile {
			v.Add("openapi", "the file is larger than %d MiB", maxOpenAPIFile>>20)
		} else if file, err := fh.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(file, maxOpenAPIFile))
			file.Close()
			f.OpenAPI = string(b)
		}
	}
	parts := strings.Split(f.Target, "|")
	in := catalog.Input{Name: f.Name, Description: f.Description, OpenAPI: catalog.Document(f.OpenAPI), Auth: f.Auth, Approval: f.Approval}
	if len(parts) == 3 {
		in.GatewayGroupID, in.ServiceID, in.RouteID = parts[0], parts[1], parts[2]
	}
	if f.RateCount != "" || f.RateWindow != "" {
		count, err1 := strconv.Atoi(f.RateCount)
		window, err2 := strconv.Atoi(f.RateWindow)
		v.Check(err1 == nil, "rate_limit.count", "must be a whole number of requests")
		v.Check(err2 == nil, "rate_limit.time_window", "must be a whole number of seconds")
		in.RateLimit = &gateway.RateLimit{Count: count, TimeWindow: window}
	}
	return f, in, v.Err()
}

// adminSaveAPI creates (no :id) or updates a portal API.
func (h *handler) adminSaveAPI(c fiber.Ctx) error {
	form, in, err := readAPIForm(c)
	var a catalog.API
	var existing *catalog.API
	if form.ID != "" {
		cur, gerr := h.cfg.Catalog.Get(c.Context(), form.ID, false)
		if gerr != nil {
			return gerr
		}
		existing = &cur
	}
	if err == nil {
		if form.ID == "" {
			a, err = h.cfg.Catalog.Create(c.Context(), webActor(c), in)
		} else {
			a, err = h.cfg.Catalog.Update(c.Context(), webActor(c), form.ID, in)
		}
	}
	if err != nil {
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			return h.renderAPI(c, statusOf(err), form, existing, errs, msgs)
		})
	}
	if form.ID == "" {
		flash(c, components.FlashSuccess, fmt.Sprintf("API %q created. It is not on the portal until you publish it.", a.Name))
	} else {
		flash(c, components.FlashSuccess, fmt.Sprintf("API %q saved.", a.Name))
	}
	return redirect(c, "/admin/apis/"+a.ID)
}

// adminPublishAPI puts an API on the portal.
func (h *handler) adminPublishAPI(c fiber.Ctx) error {
	a, err := h.cfg.Catalog.Publish(c.Context(), webActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("API %q is on the portal; its policies are live on the gateway.", a.Name))
	return redirect(c, "/admin/apis/"+a.ID)
}

// adminUnpublishAPI takes an API off the portal.
func (h *handler) adminUnpublishAPI(c fiber.Ctx) error {
	a, err := h.cfg.Catalog.Unpublish(c.Context(), webActor(c), param(c, "id"))
	if err != nil {
		return err
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("API %q is no longer on the portal.", a.Name))
	return redirect(c, "/admin/apis/"+a.ID)
}

// adminDeleteAPI deletes a portal API.
func (h *handler) adminDeleteAPI(c fiber.Ctx) error {
	if err := h.cfg.Catalog.Delete(c.Context(), webActor(c), param(c, "id")); err != nil {
		return err
	}
	flash(c, components.FlashSuccess, "API deleted; its subscriptions ended.")
	return redirect(c, "/admin/apis")
}
