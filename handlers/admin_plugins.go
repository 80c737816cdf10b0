package handlers

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/views/admin"
	"devportal/views/components"
)

// adminPlugins lists plugin templates.
func (h *handler) adminPlugins(c fiber.Ctx) error {
	q := readPageQuery(c)
	page, err := h.gw.ListPluginTemplates(c.Context(), q.options())
	if err != nil {
		return err
	}
	p := admin.PluginsProps{Layout: layout(c, "Plugin templates", "plugins"), Search: q.Search, Pagination: q.pagination("/admin/plugin-templates", page.Total)}
	for _, t := range page.List {
		names := make([]string, 0, len(t.Plugins))
		for k := range t.Plugins {
			names = append(names, k)
		}
		sort.Strings(names)
		p.Plugins = append(p.Plugins, admin.PluginTemplate{ID: t.ID, Name: t.Name, Description: t.Description, Plugins: names, Warnings: t.Warnings, UpdatedAt: t.UpdatedAt})
	}
	return render(c, fiber.StatusOK, admin.Plugins(p))
}

func (h *handler) renderPlugin(c fiber.Ctx, status int, form admin.PluginForm, errs components.Errors, msgs []string) error {
	title := form.Name
	if form.ID == "" {
		title = "New plugin template"
	}
	return render(c, status, admin.PluginEdit(admin.PluginProps{Layout: layout(c, title, "plugins"), Form: form, Errors: errs, FormErrors: msgs}))
}

// adminNewPlugin shows an empty plugin template form.
func (h *handler) adminNewPlugin(c fiber.Ctx) error {
	return h.renderPlugin(c, fiber.StatusOK, admin.PluginForm{Plugins: "{\n}"}, nil, nil)
}

// adminPlugin shows a plugin template's form.
func (h *handler) adminPlugin(c fiber.Ctx) error {
	t, err := h.gw.GetPluginTemplate(c.Context(), param(c, "id"))
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(t.Plugins, "", "  ")
	return h.renderPlugin(c, fiber.StatusOK, admin.PluginForm{ID: t.ID, Name: t.Name, Description: t.Description, Plugins: string(b)}, nil, nil)
}

// adminSavePlugin creates (no :id) or replaces a plugin template.
func (h *handler) adminSavePlugin(c fiber.Ctx) error {
	form := admin.PluginForm{ID: param(c, "id"), Name: formValue(c, "name"), Description: formValue(c, "description"), Plugins: formValue(c, "plugins")}
	in := gateway.PluginTemplateInput{Name: form.Name, Description: form.Description}
	var err error
	if uerr := json.Unmarshal([]byte(form.Plugins), &in.Plugins); uerr != nil || in.Plugins == nil {
		msg := "must be a JSON object of plugins, like {\"cors\": {}}"
		if uerr != nil {
			msg = fmt.Sprintf("is not valid JSON: %v", uerr)
		}
		err = apperr.Invalid("plugins", "%s", msg)
	}
	var t gateway.PluginTemplate
	if err == nil {
		if form.ID == "" {
			t, err = h.gw.CreatePluginTemplate(c.Context(), in)
		} else {
			t, err = h.gw.UpdatePluginTemplate(c.Context(), form.ID, in)
		}
	}
	if err != nil {
		return h.formFailed(c, err, func(errs components.Errors, msgs []string) error {
			return h.renderPlugin(c, statusOf(err), form, errs, msgs)
		})
	}
	flash(c, components.FlashSuccess, fmt.Sprintf("Plugin template %q saved.", t.Name))
	return redirect(c, "/admin/plugin-templates")
}

// adminDeletePlugin deletes a plugin template no route uses.
func (h *handler) adminDeletePlugin(c fiber.Ctx) error {
	id := param(c, "id")
	if err := h.gw.DeletePluginTemplate(c.Context(), id); err != nil {
		if status, body := classify(err); status == fiber.StatusConflict {
			flash(c, components.FlashError, upperFirst(body.Message)+".")
			return redirect(c, "/admin/plugin-templates")
		}
		return err
	}
	flash(c, components.FlashSuccess, "Plugin template deleted.")
	return redirect(c, "/admin/plugin-templates")
}
