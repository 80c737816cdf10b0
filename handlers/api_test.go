package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"devportal/gateway"
	"devportal/internal/dbtest"
)

func upstream(port int) map[string]any {
	return map[string]any{"type": "roundrobin", "nodes": []map[string]any{{"host": "127.0.0.1", "port": port, "weight": 1}}}
}

func createGroup(t *testing.T, e *env) gateway.Group {
	t.Helper()
	var g gateway.Group
	prefix := "/" + dbtest.Name("h")
	e.must(t, http.StatusCreated, "POST", "/api/v1/gateway_groups", map[string]any{"name": dbtest.Name("group"), "prefix": prefix}, &g)
	if g.ID == "" || g.Prefix != prefix {
		t.Fatalf("created group = %+v, want an id and prefix %s", g, prefix)
	}
	return g
}

func TestGatewayGroups(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		g := createGroup(t, e)
		var got gateway.Group
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+g.ID, nil, &got)
		if got.ID != g.ID || got.Name != g.Name {
			t.Fatalf("GET group = %+v, want %+v", got, g)
		}
		var list gateway.Page[gateway.Group]
		e.must(t, 200, "GET", "/api/v1/gateway_groups", nil, &list)
		if list.Total != 2 || len(list.List) != 2 {
			t.Fatalf("groups = %+v, want default and the new one", list)
		}
		ids := []string{list.List[0].ID, list.List[1].ID}
		if !slices.Contains(ids, gateway.DefaultGroupID) || !slices.Contains(ids, g.ID) {
			t.Fatalf("groups = %v, want default and %s", ids, g.ID)
		}
		e.must(t, 200, "GET", "/api/v1/gateway_groups?search="+g.Name, nil, &list)
		if list.Total != 1 || list.List[0].ID != g.ID {
			t.Fatalf("search = %+v, want only %s", list, g.ID)
		}
		// A second group with the same name conflicts.
		r := e.call(t, "POST", "/api/v1/gateway_groups", map[string]any{"name": g.Name})
		if r.Status != http.StatusConflict {
			t.Fatalf("duplicate group name = %d %s, want 409", r.Status, r.Body)
		}
		// Nodes: none yet, as an empty list (never null).
		r = e.call(t, "GET", "/api/v1/gateway_groups/"+g.ID+"/nodes", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"list":[]`) || !strings.Contains(string(r.Body), `"total":0`) {
			t.Fatalf("nodes = %d %s, want an empty list", r.Status, r.Body)
		}
	})
}

func TestPluginTemplates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var p gateway.PluginTemplate
		e.must(t, 201, "POST", "/api/v1/plugin_templates", map[string]any{
			"name": "cors", "plugins": map[string]any{"cors": map[string]any{"allow_origins": "*"}},
		}, &p)
		if p.ID == "" || p.Plugins["cors"] == nil {
			t.Fatalf("created = %+v", p)
		}
		e.must(t, 200, "PUT", "/api/v1/plugin_templates/"+p.ID, map[string]any{
			"name": "cors", "description": "open", "plugins": map[string]any{"cors": map[string]any{}},
		}, &p)
		if p.Description != "open" {
			t.Fatalf("updated = %+v", p)
		}
		for _, name := range []string{"a", "b"} {
			e.must(t, 201, "POST", "/api/v1/plugin_templates", map[string]any{"name": name, "plugins": map[string]any{"cors": map[string]any{}}}, nil)
		}
		var page gateway.Page[gateway.PluginTemplate]
		e.must(t, 200, "GET", "/api/v1/plugin_templates?page=1&page_size=2", nil, &page)
		if page.Total != 3 || len(page.List) != 2 {
			t.Fatalf("page 1 of 2 = %d items, total %d; want 2 of 3", len(page.List), page.Total)
		}
		e.must(t, 200, "GET", "/api/v1/plugin_templates?page=2&page_size=2", nil, &page)
		if page.Total != 3 || len(page.List) != 1 {
			t.Fatalf("page 2 of 2 = %d items, total %d; want 1 of 3", len(page.List), page.Total)
		}
		e.must(t, 200, "GET", "/api/v1/plugin_templates?offset=1&limit=5", nil, &page)
		if page.Total != 3 || len(page.List) != 2 {
			t.Fatalf("offset 1 = %d items, total %d; want 2 of 3", len(page.List), page.Total)
		}
		e.must(t, 204, "DELETE", "/api/v1/plugin_templates/"+p.ID, nil, nil)
		if r := e.call(t, "GET", "/api/v1/plugin_templates/"+p.ID, nil); r.Status != 404 {
			t.Fatalf("deleted plugin template = %d, want 404", r.Status)
		}
	})
}

// The contract end to end: template, publish, list, runtime, a second
// version, history, rollback, unpublish; checking what lands in etcd.
func TestServiceLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		g := createGroup(t, e)
		var plugins gateway.PluginTemplate
		e.must(t, 201, "POST", "/api/v1/plugin_templates", map[string]any{
			"name": dbtest.Name("p"), "plugins": map[string]any{"cors": map[string]any{}},
		}, &plugins)

		var tpl gateway.ServiceTemplate
		e.must(t, 201, "POST", "/api/v1/service_templates", map[string]any{
			"name": "orders", "type": "http", "upstream": upstream(8081),
			"routes": []map[string]any{
				{"name": "list", "paths": []string{"/orders"}, "methods": []string{"GET"}, "plugin_template_id": plugins.ID},
				{"name": "get", "paths": []string{"/orders/*"}, "methods": []string{"GET"}},
			},
		}, &tpl)
		if tpl.ID == "" || len(tpl.Routes) != 2 || tpl.Routes[0].TemplateID == "" {
			t.Fatalf("template = %+v, want an id and route template ids", tpl)
		}
		if keys := e.keys(t, g.Prefix); len(keys) != 0 {
			t.Fatalf("a template alone wrote etcd keys: %v", keys)
		}

		var svc gateway.PublishedService
		e.must(t, 200, "POST", "/api/v1/service_templates/"+tpl.ID+"/publish", map[string]any{
			"gateway_group_id": g.ID, "version": "1.0.0", "service_id": "orders",
			"runtime": map[string]any{"path_prefix": "/shop", "strip_path_prefix": true, "hosts": []string{"api.example.com"}},
		}, &svc)
		if svc.ID != "orders" || svc.Version != "1.0.0" || svc.TemplateID != tpl.ID || len(svc.Routes) != 2 {
			t.Fatalf("published = %+v", svc)
		}
		for _, r := range svc.Routes {
			if r.ID == "" || r.TemplateID == "" {
				t.Fatalf("published route without ids: %+v", r)
			}
		}
		keys := e.keys(t, g.Prefix)
		if !slices.Contains(keys, "/services/orders") || !slices.Contains(keys, "/routes/"+svc.Routes[0].ID) {
			t.Fatalf("etcd keys under %s = %v, want the service and its routes", g.Prefix, keys)
		}
		if other := e.keys(t, "/apisix"); slices.ContainsFunc(other, func(k string) bool { return strings.Contains(k, "orders") }) {
			t.Fatalf("publishing to %s wrote to the default group: %v", g.ID, other)
		}

		var list gateway.Page[gateway.PublishedService]
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+g.ID+"/services", nil, &list)
		if list.Total != 1 || list.List[0].ID != "orders" {
			t.Fatalf("services = %+v", list)
		}
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+g.ID+"/services/orders", nil, &svc)
		if svc.Runtime.PathPrefix != "/shop" {
			t.Fatalf("runtime = %+v, want path prefix /shop", svc.Runtime)
		}

		// Runtime of this group.
		e.must(t, 200, "PUT", "/api/v1/gateway_groups/"+g.ID+"/services/orders/runtime", map[string]any{
			"path_prefix": "/store", "upstream": upstream(9091),
		}, &svc)
		if svc.Runtime.PathPrefix != "/store" || svc.Runtime.Upstream == nil || svc.Runtime.Upstream.Nodes[0].Port != 9091 {
			t.Fatalf("runtime after PUT = %+v", svc.Runtime)
		}

		// A second version keeps the group's runtime and sends 1.0.0 to history.
		e.must(t, 200, "PUT", "/api/v1/service_templates/"+tpl.ID, map[string]any{
			"name": "orders", "type": "http", "upstream": upstream(8081),
			"routes": []map[string]any{{"name": "list", "paths": []string{"/orders"}, "template_id": tpl.Routes[0].TemplateID}},
		}, &tpl)
		e.must(t, 200, "POST", "/api/v1/service_templates/"+tpl.ID+"/publish", map[string]any{
			"gateway_group_id": g.ID, "version": "2.0.0",
		}, &svc)
		if svc.Version != "2.0.0" || len(svc.Routes) != 1 || svc.Runtime.PathPrefix != "/store" {
			t.Fatalf("v2 = %+v, want one route and the kept runtime", svc)
		}

		var hist gateway.Page[gateway.HistoryEntry]
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+g.ID+"/services/orders/history", nil, &hist)
		var v1 string
		for _, h := range hist.List {
			if h.Version == "1.0.0" {
				v1 = h.ID
			}
		}
		if hist.Total < 1 || v1 == "" {
			t.Fatalf("history = %+v, want version 1.0.0 in it", hist)
		}

		e.must(t, 200, "POST", "/api/v1/gateway_groups/"+g.ID+"/services/orders/rollback", map[string]any{"history_id": v1}, &svc)
		if svc.Version != "1.0.0" || len(svc.Routes) != 2 {
			t.Fatalf("rolled back = %+v, want version 1.0.0 with two routes", svc)
		}
		if r := e.call(t, "POST", "/api/v1/gateway_groups/"+g.ID+"/services/orders/rollback", map[string]any{"history_id": "nope"}); r.Status != 404 && r.Status != 400 {
			t.Fatalf("rollback to an unknown history entry = %d %s, want 404 or 400", r.Status, r.Body)
		}

		// The template shows where it runs.
		e.must(t, 200, "GET", "/api/v1/service_templates/"+tpl.ID, nil, &tpl)
		if len(tpl.Published) != 1 || tpl.Published[0].GatewayGroupID != g.ID {
			t.Fatalf("template published refs = %+v", tpl.Published)
		}
		var tpls gateway.Page[gateway.ServiceTemplate]
		e.must(t, 200, "GET", "/api/v1/service_templates?search=orders", nil, &tpls)
		if tpls.Total != 1 {
			t.Fatalf("templates = %+v", tpls)
		}

		// Unpublish removes exactly the service's keys.
		e.must(t, 204, "DELETE", "/api/v1/gateway_groups/"+g.ID+"/services/orders", nil, nil)
		if keys := e.keys(t, g.Prefix); len(keys) != 0 {
			t.Fatalf("keys left after unpublish: %v", keys)
		}
		if r := e.call(t, "GET", "/api/v1/gateway_groups/"+g.ID+"/services/orders", nil); r.Status != 404 {
			t.Fatalf("unpublished service = %d, want 404", r.Status)
		}
		e.must(t, 204, "DELETE", "/api/v1/service_templates/"+tpl.ID, nil, nil)
		if r := e.call(t, "GET", "/api/v1/service_templates/"+tpl.ID, nil); r.Status != 404 {
			t.Fatalf("deleted template = %d, want 404", r.Status)
		}
	})
}

func TestServiceCreatedOnGroup(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		g := createGroup(t, e)
		var svc gateway.PublishedService
		e.must(t, 201, "POST", "/api/v1/gateway_groups/"+g.ID+"/services", map[string]any{
			"name": "echo", "type": "http", "upstream": upstream(7070), "service_id": "echo",
			"routes":    []map[string]any{{"name": "all", "paths": []string{"/echo"}}},
			"route_ids": map[string]string{},
		}, &svc)
		if svc.ID != "echo" || svc.TemplateID == "" || svc.Version != "" {
			t.Fatalf("created = %+v, want service echo with a template and no version", svc)
		}
		var tpl gateway.ServiceTemplate
		e.must(t, 200, "GET", "/api/v1/service_templates/"+svc.TemplateID, nil, &tpl)
		if tpl.Name != "echo" {
			t.Fatalf("template of the direct service = %+v", tpl)
		}
		// The same service ID again conflicts.
		r := e.call(t, "POST", "/api/v1/gateway_groups/"+g.ID+"/services", map[string]any{
			"name": "echo2", "type": "http", "upstream": upstream(7070), "service_id": "echo",
			"routes": []map[string]any{{"name": "all", "paths": []string{"/echo2"}}},
		})
		if r.Status != http.StatusConflict {
			t.Fatalf("duplicate service id = %d %s, want 409", r.Status, r.Body)
		}
		// A direct edit keeps the previous state in history.
		e.must(t, 200, "PUT", "/api/v1/gateway_groups/"+g.ID+"/services/echo", map[string]any{
			"name": "echo", "type": "http", "upstream": upstream(7071),
			"routes": []map[string]any{{"name": "all", "paths": []string{"/echo", "/echo/*"}}},
		}, &svc)
		var hist gateway.Page[gateway.HistoryEntry]
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+g.ID+"/services/echo/history?page=1&page_size=10", nil, &hist)
		if hist.Total != 1 {
			t.Fatalf("history after a direct edit = %+v, want one entry", hist)
		}
	})
}
