package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/listing"
	"devportal/portal/apps"
	"devportal/portal/orgs"
	"devportal/views/admin"
	"devportal/views/components"
)

// adminOrgs lists organizations with the create form.
func (h *handler) adminOrgs(c fiber.Ctx) error {
	return h.renderOrgs(c, fiber.StatusOK, "", nil)
}

func (h *handler) renderOrgs(c fiber.Ctx, status int, name string, errs components.Errors) error {
	q := readPageQuery(c)
	page, err := h.cfg.Orgs.List(c.Context(), q.options())
	if err != nil {
		return err
	}
	p := admin.OrgsProps{Layout: layout(c, "Organizations", "orgs"), Search: q.Search, Pagination: q.pagination("/admin/orgs", page.Total), Name: name, Errors: errs}
	for _, o := range page.List {
		p.Orgs = append(p.Orgs, admin.Org{ID: o.ID, Name: o.Name, Members: o.Members, CreatedAt: o.CreatedAt})
	}
	return render(c, status, admin.Orgs(p))
}

// adminCreateOrg creates an organization.
func (h *handler) adminCreateOrg(c fiber.Ctx) error {
	name := formValue(c, "name")
	o, err := h.cfg.Orgs.Create(c.Context(), webActor(c), name)
	if err != nil {
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			if errs == nil {
				errs = components.Errors{"name": msgs[0]}
			}
			return h.renderOrgs(c, statusOf(err), name, errs)
		})
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("Organization %q created. Add its developers now.", o.Name))
	return redirect(c, "/admin/orgs/"+o.ID)
}

// adminOrg shows an organization's members, the add form and its applications.
func (h *handler) adminOrg(c fiber.Ctx) error {
	return h.renderOrg(c, fiber.StatusOK, admin.DeveloperForm{Role: orgs.RoleMember}, nil, nil)
}

func (h *handler) renderOrg(c fiber.Ctx, status int, form admin.DeveloperForm, errs components.Errors, msgs []string) error {
	ctx, act, oid := c.Context(), webActor(c), param(c, "oid")
	o, err := h.cfg.Orgs.Get(ctx, oid)
	if err != nil {
		return err
	}
	q := readPageQuery(c)
	members, err := h.cfg.Orgs.Members(ctx, act, oid, q.options())
	if err != nil {
		return err
	}
	list, err := h.cfg.Apps.List(ctx, act, oid, listing.Options{Limit: 100})
	if err != nil {
		return err
	}
	p := admin.OrgProps{Layout: layout(c, o.Name, "orgs"), Org: admin.Org{ID: o.ID, Name: o.Name, Members: o.Members, CreatedAt: o.CreatedAt},
		Search: q.Search, Pagination: q.pagination("/admin/orgs/"+oid, members.Total), AppsTotal: list.Total, Form: form, Errors: errs, FormErrors: msgs}
	for _, m := range members.List {
		p.Members = append(p.Members, admin.Member{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, JoinedAt: m.JoinedAt})
	}
	for _, a := range list.List {
		p.Apps = append(p.Apps, viewApp(a))
	}
	return render(c, status, admin.OrgDetail(p))
}

// adminAddDeveloper adds a developer (a new or an existing account).
func (h *handler) adminAddDeveloper(c fiber.Ctx) error {
	oid := param(c, "oid")
	form := admin.DeveloperForm{Email: formValue(c, "email"), Name: formValue(c, "name"), Role: formValue(c, "role")}
	m, err := h.cfg.Orgs.AddDeveloper(c.Context(), webActor(c), oid, orgs.DeveloperInput{Email: form.Email, Name: form.Name,
		Password: c.FormValue("password"), Role: form.Role})
	if err != nil {
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			return h.renderOrg(c, statusOf(err), form, errs, msgs)
		})
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("%s is now a %s of the organization.", m.Email, m.Role))
	return redirect(c, "/admin/orgs/"+oid)
}

// adminRemoveMember takes a member out of an organization.
func (h *handler) adminRemoveMember(c fiber.Ctx) error {
	oid := param(c, "oid")
	if err := h.cfg.Orgs.RemoveMember(c.Context(), webActor(c), oid, param(c, "uid")); err != nil {
		status, body := classify(err)
		if status == fiber.StatusConflict || status == fiber.StatusBadRequest {
			flash(c, components.FlashError, upperFirst(body.Message)+".")
			return redirect(c, "/admin/orgs/"+oid)
		}
		return err
	}
	flash(c, components.FlashSuccess, "Member removed.")
	return redirect(c, "/admin/orgs/"+oid)
}

func viewApp(a apps.App) admin.App {
	v := admin.App{ID: a.ID, OrgID: a.OrgID, Name: a.Name, Description: a.Description, Consumer: a.Consumer, CreatedAt: a.CreatedAt}
	for _, k := range a.Keys {
		v.Keys = append(v.Keys, admin.Key{ID: k.ID, Hint: k.Hint, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, Active: k.Active})
	}
	return v
}
