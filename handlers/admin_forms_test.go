package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/internal/dbtest"
	"devportal/portal/catalog"
)

// errorOf is the error shown beside a field of a re-rendered form.
func errorOf(p *page, field string) string {
	return strings.TrimSpace(p.TestID("error-" + field).Text())
}

func TestAdminGroupForm(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		// Bad input: the form again, values kept, errors beside the fields.
		p := b.post("/admin/groups", url.Values{"name": {""}, "prefix": {"no slash"}, "description": {"kept"}}).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "name") == "" || errorOf(p, "prefix") == "" {
			t.Fatalf("no field errors:\n%s", p.Body)
		}
		if v, _ := p.Find(`input[name=description]`).Attr("value"); v != "kept" {
			t.Fatalf("value not kept: %q", v)
		}
		// A duplicate name: a conflict shown above the form.
		p = b.post("/admin/groups", url.Values{"name": {e.Group.Name}}).must(t, http.StatusConflict)
		if p.TestID("form-errors").Length() != 1 {
			t.Fatalf("no form error for a duplicate:\n%s", p.Body)
		}
		name := dbtest.Name("edge")
		p = b.post("/admin/groups", url.Values{"name": {name}, "prefix": {"/" + dbtest.Name("px")}}).must(t, http.StatusSeeOther)
		if !strings.HasPrefix(p.Location, "/admin/groups/") {
			t.Fatalf("redirect to %q", p.Location)
		}
		p = b.get(p.Location).must(t, http.StatusOK)
		if p.TestID("group-name").Text() != name || p.TestID("flash-success").Length() != 1 {
			t.Fatalf("group page after create:\n%s", p.Body)
		}
		if p.TestID("no-drift").Length() != 1 {
			t.Fatalf("a new group shows drift:\n%s", p.TestID("drift").Text())
		}
	})
}

func TestAdminDriftRepair(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		f := e.fixture(t)
		e.Drain(t)
		b := e.adminBrowser(t)
		b.get("/admin/groups/"+e.Group.ID).must(t, http.StatusOK) // the first view checks
		// Someone deletes the route in etcd behind the control plane's back.
		if _, err := e.Member.Client(t).Delete(e.Ctx, e.Group.Prefix+"/routes/"+f.svc.Routes[0].ID); err != nil {
			t.Fatal(err)
		}
		// The page shows the last check until asked for a new one.
		if p := b.get("/admin/groups/"+e.Group.ID).must(t, http.StatusOK); p.TestID("drift-check").Length() != 1 {
			t.Fatalf("no Check now link:\n%s", p.TestID("drift").Text())
		}
		p := b.get("/admin/groups/"+e.Group.ID+"?check=1").must(t, http.StatusOK)
		row := p.TestID("drift-table").Find("tr:contains('" + f.svc.Routes[0].ID + "')")
		if !strings.Contains(row.Text(), "missing") {
			t.Fatalf("drift panel does not show the missing route:\n%s", p.TestID("drift").Text())
		}
		b.post("/admin/groups/"+e.Group.ID+"/reconcile", nil).must(t, http.StatusSeeOther)
		p = b.get("/admin/groups/" + e.Group.ID)
		if p.TestID("no-drift").Length() != 1 || !strings.Contains(p.TestID("flash-success").Text(), "Repaired") {
			t.Fatalf("after repair:\n%s", p.TestID("drift").Text()+p.TestID("flash-success").Text())
		}
	})
}

func TestAdminTemplateLifecycle(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		plug, err := e.Gateway.CreatePluginTemplate(e.Ctx, gateway.PluginTemplateInput{Name: dbtest.Name("cors"), Plugins: map[string]any{"cors": map[string]any{}}})
		if err != nil {
			t.Fatal(err)
		}
		name := dbtest.Name("orders")
		form := url.Values{"name": {name}, "type": {"http"}, "upstream_type": {"roundrobin"}, "upstream_nodes": {"127.0.0.1:8081\n127.0.0.2:8081 3"},
			"route_template_id": {"", ""}, "route_name": {"list", ""}, "route_paths": {"/orders /orders/*", ""},
			"route_methods": {"get post", ""}, "route_plugin": {plug.ID, ""}}

		// Bad input: a broken node line and a route without paths.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("upstream_nodes", "localhost")
		bad["route_paths"] = []string{"", ""}
		p := b.post("/admin/templates", bad).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(p, "upstream_nodes"), "host:port") {
			t.Fatalf("no node error:\n%s", p.Body)
		}
		if v, _ := p.Find(`input[name=name]`).Attr("value"); v != name {
			t.Fatal("name not kept")
		}
		// The form's own errors and the domain's show together.
		bad.Set("name", "")
		p = b.post("/admin/templates", bad).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "name") == "" || !strings.Contains(errorOf(p, "upstream_nodes"), "host:port") {
			t.Fatalf("want both the name and the node errors:\n%s", p.Body)
		}
		bad.Set("name", name)
		bad.Set("upstream_nodes", "127.0.0.1:8081")
		p = b.post("/admin/templates", bad).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("routes").Text(), "needs at least one path") {
			t.Fatalf("no route error:\n%s", p.TestID("routes").Text())
		}

		// Create.
		p = b.post("/admin/templates", form).must(t, http.StatusSeeOther)
		tid := strings.TrimPrefix(p.Location, "/admin/templates/")
		tpl, err := e.Gateway.GetTemplate(e.Ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(tpl.Upstream.Nodes) != 2 || tpl.Upstream.Nodes[1].Weight != 3 || len(tpl.Routes) != 1 ||
			strings.Join(tpl.Routes[0].Methods, ",") != "GET,POST" || tpl.Routes[0].PluginTemplateID != plug.ID || len(tpl.Routes[0].Paths) != 2 {
			t.Fatalf("template as created: %+v", tpl)
		}

		// Edit: the page shows the route; add a second route, keep the first's ID.
		p = b.get("/admin/templates/"+tid).must(t, http.StatusOK)
		rid, _ := p.Find(`input[name=route_template_id]`).First().Attr("value")
		if rid != tpl.Routes[0].TemplateID {
			t.Fatalf("route template ID in the form = %q", rid)
		}
		edit := url.Values{"name": {name}, "type": {"http"}, "upstream_type": {"roundrobin"}, "upstream_nodes": {"127.0.0.1:8081"},
			"route_template_id": {rid, ""}, "route_name": {"list", "one"}, "route_paths": {"/orders", "/orders/:id"},
			"route_methods": {"", "GET"}, "route_plugin": {"", ""}}
		b.post("/admin/templates/"+tid, edit).must(t, http.StatusSeeOther)
		tpl, _ = e.Gateway.GetTemplate(e.Ctx, tid)
		if len(tpl.Routes) != 2 || tpl.Routes[0].TemplateID != rid {
			t.Fatalf("after edit: %+v", tpl.Routes)
		}

		// Publish: a bad version, then a good one with a runtime path prefix.
		p = b.post("/admin/templates/"+tid+"/publish", url.Values{"gateway_group_id": {e.Group.ID}, "version": {""}}).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "version") == "" {
			t.Fatalf("no version error:\n%s", p.TestID("publish-form").Text())
		}
		p = b.post("/admin/templates/"+tid+"/publish", url.Values{"gateway_group_id": {e.Group.ID}, "version": {"1.0.0"},
			"set_runtime": {"on"}, "runtime_path_prefix": {"/shop"}, "runtime_strip": {"on"}}).must(t, http.StatusSeeOther)
		svcPath := p.Location
		p = b.get(svcPath).must(t, http.StatusOK)
		if !strings.Contains(p.TestID("routes").Text(), "/shop/orders") {
			t.Fatalf("published routes:\n%s", p.TestID("routes").Text())
		}

		// Delete is refused while published: a flash, not a 500.
		b.post("/admin/templates/"+tid+"/delete", nil).must(t, http.StatusSeeOther)
		if b.get("/admin/templates/"+tid).TestID("flash-error").Length() != 1 {
			t.Fatal("no error flash when deleting a published template")
		}

		// Runtime: bad (strip without prefix), then good.
		p = b.post(svcPath+"/runtime", url.Values{"runtime_strip": {"on"}}).must(t, http.StatusUnprocessableEntity)
		if p.TestID("error-runtime_strip").Length() != 1 {
			t.Fatalf("no strip error:\n%s", p.TestID("runtime-form").Text())
		}
		b.post(svcPath+"/runtime", url.Values{"runtime_path_prefix": {"/store"}, "runtime_nodes": {"127.0.0.9:9000"}}).must(t, http.StatusSeeOther)
		p = b.get(svcPath)
		if !strings.Contains(p.TestID("routes").Text(), "/store/orders") {
			t.Fatalf("runtime not applied:\n%s", p.TestID("routes").Text())
		}

		// History and rollback.
		hist := p.Find(`[data-testid^="rollback-"] input[name=history_id]`)
		if hist.Length() == 0 {
			t.Fatalf("no history to roll back to:\n%s", p.TestID("history").Text())
		}
		hid, _ := hist.First().Attr("value")
		b.post(svcPath+"/rollback", url.Values{"history_id": {hid}}).must(t, http.StatusSeeOther)
		b.post(svcPath+"/rollback", url.Values{"history_id": {"nope"}}).must(t, http.StatusNotFound)

		// Unpublish, then the template can go.
		b.post(svcPath+"/delete", nil).must(t, http.StatusSeeOther)
		b.post("/admin/templates/"+tid+"/delete", nil).must(t, http.StatusSeeOther)
		if _, err := e.Gateway.GetTemplate(e.Ctx, tid); err == nil {
			t.Fatal("template not deleted")
		}
	})
}

func TestAdminPluginForm(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		p := b.post("/admin/plugin-templates", url.Values{"name": {"x"}, "plugins": {"{not json"}}).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(p, "plugins"), "not valid JSON") {
			t.Fatalf("no JSON error:\n%s", p.Body)
		}
		if p.Find(`textarea[name=plugins]`).Text() != "{not json" {
			t.Fatal("plugins not kept")
		}
		p = b.post("/admin/plugin-templates", url.Values{"name": {"x"}, "plugins": {`{"key-auth": {}}`}}).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "plugins") == "" {
			t.Fatalf("key-auth accepted in a plugin template:\n%s", p.Body)
		}
		name := dbtest.Name("cors")
		b.post("/admin/plugin-templates", url.Values{"name": {name}, "plugins": {`{"cors": {"allow_origins": "*"}}`}}).must(t, http.StatusSeeOther)
		list, _ := e.Gateway.ListPluginTemplates(e.Ctx, gateway.ListOptions{Search: name})
		if len(list.List) != 1 {
			t.Fatal("not created")
		}
		id := list.List[0].ID
		b.post("/admin/plugin-templates/"+id, url.Values{"name": {name}, "description": {"open"}, "plugins": {`{"cors": {}}`}}).must(t, http.StatusSeeOther)
		if pt, _ := e.Gateway.GetPluginTemplate(e.Ctx, id); pt.Description != "open" {
			t.Fatal("not updated")
		}
		b.post("/admin/plugin-templates/"+id+"/delete", nil).must(t, http.StatusSeeOther)
		if _, err := e.Gateway.GetPluginTemplate(e.Ctx, id); err == nil {
			t.Fatal("not deleted")
		}
	})
}

// postMultipart submits a multipart form (with a file) as the browser.
func (b *browser) postMultipart(path string, fields url.Values, fileField, fileName, content string) *page {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields.Set("_csrf", b.token)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		_, _ = io.WriteString(fw, content)
	}
	w.Close()
	req := httptest.NewRequest(http.MethodPost, path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.app.Test(req, fiber.TestConfig{Timeout: 60 * time.Second})
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw), Location: resp.Header.Get("Location")}
	p.doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(raw))
	return p
}

func TestAdminAPIForm(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		svc := e.PublishService(t, dbtest.Name("pets"), "/pets", "127.0.0.1", 1)
		b := e.adminBrowser(t)
		p := b.get("/admin/apis/new").must(t, http.StatusOK)
		target := e.Group.ID + "|" + svc.ID + "|" + svc.Routes[0].ID
		if p.Find(`select[name=target] option[value="`+target+`"]`).Length() != 1 {
			t.Fatalf("the route is not a choice:\n%s", p.TestID("field-target").Text())
		}
		name := dbtest.Name("Pets")
		form := url.Values{"name": {name}, "target": {target}, "auth": {"key-auth"}, "approval": {"manual"},
			"rate_count": {"100"}, "rate_window": {"60"}, "openapi": {"openapi: 3.0.3\ninfo: {}\n"}}
		// A bad document: the error names the problem, beside the field.
		p = b.postMultipart("/admin/apis", form, "", "", "").must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "openapi") == "" {
			t.Fatalf("no openapi error:\n%s", p.Body)
		}
		// A bad rate limit.
		form.Set("openapi", petstore)
		form.Set("rate_count", "lots")
		p = b.postMultipart("/admin/apis", form, "", "", "").must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "rate_count") == "" {
			t.Fatalf("no rate limit error:\n%s", p.Body)
		}
		// Good, with the document as an uploaded file.
		form.Set("rate_count", "100")
		form.Set("openapi", "")
		p = b.postMultipart("/admin/apis", form, "openapi_file", "pets.yaml", petstore).must(t, http.StatusSeeOther)
		id := strings.TrimPrefix(p.Location, "/admin/apis/")
		a, err := e.Catalog.Get(e.Ctx, id, false)
		if err != nil || a.RateLimit == nil || a.RateLimit.Count != 100 || !a.HasDoc || a.Published {
			t.Fatalf("created %+v, %v", a, err)
		}
		b.post("/admin/apis/"+id+"/publish", nil).must(t, http.StatusSeeOther)
		if a, _ = e.Catalog.Get(e.Ctx, id, false); !a.Published {
			t.Fatal("not published")
		}
		// Edit: approval to auto, no rate limit.
		form.Set("approval", "auto")
		form.Del("rate_count")
		form.Del("rate_window")
		form.Set("openapi", petstore)
		b.postMultipart("/admin/apis/"+id, form, "", "", "").must(t, http.StatusSeeOther)
		if a, _ = e.Catalog.Get(e.Ctx, id, false); a.Approval != catalog.ApprovalAuto || a.RateLimit != nil {
			t.Fatalf("after edit: %+v", a)
		}
		b.post("/admin/apis/"+id+"/unpublish", nil).must(t, http.StatusSeeOther)
		// The route goes away on the gateway: the API is marked unavailable.
		if _, err := e.Gateway.DeleteService(e.Ctx, e.Group.ID, svc.ID); err != nil {
			t.Fatal(err)
		}
		p = b.get("/admin/apis/"+id).must(t, http.StatusOK)
		if p.TestID("unavailable-warning").Length() != 1 {
			t.Fatalf("no unavailable warning:\n%s", p.Body)
		}
		if b.get("/admin/apis").TestID("unavailable").Length() != 1 {
			t.Fatal("the list does not mark the API unavailable")
		}
		p = b.get("/admin/apis/" + id)
		if !strings.Contains(p.TestID("delete-api").Text(), "stays closed") {
			t.Fatal("the delete confirmation does not say what happens")
		}
		b.post("/admin/apis/"+id+"/delete", nil).must(t, http.StatusSeeOther)
		if _, err := e.Catalog.Get(e.Ctx, id, false); err == nil {
			t.Fatal("not deleted")
		}
	})
}

func TestAdminOrgForms(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		p := b.post("/admin/orgs", url.Values{"name": {""}}).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "name") == "" {
			t.Fatalf("no name error:\n%s", p.Body)
		}
		p = b.post("/admin/orgs", url.Values{"name": {"default"}}).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(p, "name"), "exists") {
			t.Fatalf("duplicate accepted:\n%s", p.Body)
		}
		name := dbtest.Name("acme")
		p = b.post("/admin/orgs", url.Values{"name": {name}}).must(t, http.StatusSeeOther)
		orgPath := p.Location
		// Add a developer: bad e-mail, then a new account.
		p = b.post(orgPath+"/developers", url.Values{"email": {"not-an-email"}, "name": {"Ann"}}).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "email") == "" {
			t.Fatalf("no e-mail error:\n%s", p.Body)
		}
		if v, _ := p.Find(`input[name=name]`).Attr("value"); v != "Ann" {
			t.Fatal("name not kept")
		}
		email := dbtest.Name("ann") + "@example.com"
		b.post(orgPath+"/developers", url.Values{"email": {email}, "name": {"Ann"}, "password": {"ann-pass-123"}, "role": {"member"}}).must(t, http.StatusSeeOther)
		p = b.get(orgPath).must(t, http.StatusOK)
		if !strings.Contains(p.TestID("members").Text(), email) || p.TestID("apps-empty").Length() != 1 {
			t.Fatalf("members after add:\n%s", p.TestID("members").Text())
		}
		// Twice: an error beside the e-mail.
		p = b.post(orgPath+"/developers", url.Values{"email": {email}}).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(p, "email"), "already") {
			t.Fatalf("second add:\n%s", p.Body)
		}
		// The new developer can sign in, and is no admin.
		dev := e.browser(t)
		dev.login(email, "ann-pass-123")
		dev.get("/admin").must(t, http.StatusForbidden)

		// Remove her, behind a confirmation.
		p = b.get(orgPath)
		rm := p.Find(`[data-testid^="remove-"] form`)
		action, _ := rm.Attr("action")
		if rm.Length() != 1 || !strings.HasSuffix(action, "/remove") {
			t.Fatalf("no remove confirmation:\n%s", p.TestID("members").Text())
		}
		b.post(action, nil).must(t, http.StatusSeeOther)
		if p = b.get(orgPath); strings.Contains(p.TestID("members").Text(), email) || p.TestID("members-empty").Length() != 1 {
			t.Fatalf("still a member:\n%s", p.TestID("members").Text())
		}
	})
}

func TestAdminAuditPages(t *testing.T) {
	e := newWebEnv(t, sqliteDB(t))
	for i := 0; i < 55; i++ {
		if _, err := e.Orgs.Create(e.Ctx, e.Admin, dbtest.Name("o")); err != nil {
			t.Fatal(err)
		}
	}
	b := e.adminBrowser(t)
	p := b.get("/admin/audit").must(t, http.StatusOK)
	rows := p.TestID("audit").Find("tbody tr").Length()
	older, ok := p.TestID("audit-older").Attr("href")
	if rows != 50 || !ok {
		t.Fatalf("first page: %d rows, older link %v", rows, ok)
	}
	p = b.get(older).must(t, http.StatusOK)
	if n := p.TestID("audit").Find("tbody tr").Length(); n < 5 || p.TestID("audit-older").Length() != 0 {
		t.Fatalf("second page: %d rows", n)
	}
	p = b.get("/admin/audit?action=no.such.action").must(t, http.StatusOK)
	if p.TestID("audit-empty").Length() != 1 {
		t.Fatal("no empty state")
	}
}

func TestAdminDirectService(t *testing.T) {
	eachWeb(t, func(t *testing.T, e *webEnv) {
		b := e.adminBrowser(t)
		base := "/admin/groups/" + e.Group.ID + "/services"
		p := b.get(base+"/new").must(t, http.StatusOK)
		if p.TestID("publish-form").Length() != 0 || p.TestID("field-service_id").Length() != 1 {
			t.Fatalf("direct form:\n%s", p.Body)
		}
		form := url.Values{"name": {""}, "type": {"http"}, "upstream_nodes": {"127.0.0.1:8081"}, "service_id": {"bad id!"},
			"route_template_id": {""}, "route_name": {"r"}, "route_paths": {"/direct"}, "route_methods": {""}, "route_plugin": {""}}
		p = b.post(base, form).must(t, http.StatusUnprocessableEntity)
		if errorOf(p, "name") == "" {
			t.Fatalf("no name error:\n%s", p.Body)
		}
		if v, _ := p.Find(`input[name=service_id]`).Attr("value"); v != "bad id!" {
			t.Fatal("service ID not kept")
		}
		form.Set("name", dbtest.Name("direct"))
		form.Set("service_id", "direct-svc")
		p = b.post(base, form).must(t, http.StatusSeeOther)
		if p.Location != base+"/direct-svc" {
			t.Fatalf("redirect to %q", p.Location)
		}
		p = b.get(p.Location).must(t, http.StatusOK)
		if !strings.Contains(p.TestID("routes").Text(), "/direct") {
			t.Fatalf("routes:\n%s", p.TestID("routes").Text())
		}
	})
}
