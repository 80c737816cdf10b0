package gateway

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"devportal/internal/apperr"
	"devportal/models"
)

func TestPublishWritesAPISIXJSON(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		pt, err := fx.svc.CreatePluginTemplate(fx.ctx, PluginTemplateInput{Name: "cors-" + fx.group.ID,
			Plugins: map[string]any{"cors": map[string]any{"allow_origins": "*"}}})
		if err != nil {
			t.Fatal(err)
		}
		spec := httpSpec("orders", "/orders", "/orders/*")
		spec.Routes = append(spec.Routes, models.RouteSpec{Name: "create", Paths: []string{"/orders"},
			Methods: []string{"POST"}, PluginTemplateID: pt.ID})
		tpl := mustTemplate(t, fx, spec)
		if tpl.Routes[0].TemplateID == "" || tpl.Routes[1].TemplateID == tpl.Routes[0].TemplateID {
			t.Fatalf("route template IDs not assigned: %+v", tpl.Routes)
		}
		// Nothing is live before a publish.
		if got := fx.dump(t, fx.group.Prefix); len(got) != 0 {
			t.Fatalf("template wrote to etcd: %v", got)
		}
		p := mustPublish(t, fx, tpl.ID, PublishInput{Version: "1.0.0", ServiceID: "orders",
			RouteIDs: map[string]string{"create": "orders-create"}})
		if p.ID != "orders" || p.Version != "1.0.0" || p.TemplateID != tpl.ID {
			t.Fatalf("published = %+v", p)
		}
		kv := fx.dump(t, fx.group.Prefix)
		r1 := tpl.Routes[0].TemplateID
		want := []string{"/plugin_configs/orders." + pt.ID, "/routes/orders-create", "/routes/" + r1, "/services/orders", "/upstreams/orders"}
		sort.Strings(want)
		if got := keys(kv); !reflect.DeepEqual(got, want) {
			t.Fatalf("keys = %v, want %v", got, want)
		}
		route := kv["/routes/"+r1]
		if route["uris"] == nil || route["service_id"] != "orders" || route["id"] != r1 {
			t.Errorf("route = %v", route)
		}
		if m := route["methods"].([]any); len(m) != 1 || m[0] != "GET" {
			t.Errorf("methods = %v", m)
		}
		labels := route["labels"].(map[string]any)
		if labels["api7_service_template_id"] != tpl.ID || labels["version"] != "1.0.0" || labels["api7_route_template_id"] != r1 {
			t.Errorf("route labels = %v", labels)
		}
		if route["create_time"] == nil || route["update_time"] == nil {
			t.Errorf("route has no timestamps: %v", route)
		}
		if c := kv["/routes/orders-create"]; c["uri"] != "/orders" || c["plugin_config_id"] != "orders."+pt.ID {
			t.Errorf("second route = %v", c)
		}
		pc := kv["/plugin_configs/orders."+pt.ID]["plugins"].(map[string]any)
		if pc["cors"] == nil {
			t.Errorf("plugin config = %v", pc)
		}
		up := kv["/upstreams/orders"]
		nodes := up["nodes"].([]any)
		if up["type"] != "roundrobin" || len(nodes) != 1 || nodes[0].(map[string]any)["port"] != float64(8081) {
			t.Errorf("upstream = %v", up)
		}
		if s := kv["/services/orders"]; s["upstream_id"] != "orders" || s["labels"].(map[string]any)["version"] != "1.0.0" {
			t.Errorf("service = %v", s)
		}
		got, _ := fx.svc.GetTemplate(fx.ctx, tpl.ID)
		if len(got.Published) != 1 || got.Published[0].ServiceID != "orders" {
			t.Errorf("template published refs = %+v", got.Published)
		}
	})
}

func TestRepublishKeepsRuntimeAndRecordsHistory(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		tpl := mustTemplate(t, fx, httpSpec("users", "/users"))
		rt := models.Runtime{Hosts: []string{"API.example.com"}, PathPrefix: "/v1", StripPathPrefix: true,
			Upstream: &models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "10.0.0.7", Port: 80, Weight: 3}}}}
		mustPublish(t, fx, tpl.ID, PublishInput{Version: "v1", Runtime: &rt})

		// Edit the template: nothing live changes.
		spec := tpl.ServiceSpec
		spec.Routes[0].Paths = []string{"/users", "/people"}
		spec.Upstream.Nodes[0].Port = 9999
		if _, err := fx.svc.UpdateTemplate(fx.ctx, tpl.ID, spec); err != nil {
			t.Fatal(err)
		}
		rid := tpl.Routes[0].TemplateID
		if kv := fx.dump(t, fx.group.Prefix); kv["/routes/"+rid]["uri"] != "/v1/users" {
			t.Fatalf("template edit reached etcd: %v", kv["/routes/"+rid])
		}

		p := mustPublish(t, fx, tpl.ID, PublishInput{Version: "v2"})
		kv := fx.dump(t, fx.group.Prefix)
		route := kv["/routes/"+rid]
		if uris := route["uris"].([]any); len(uris) != 2 || uris[0] != "/v1/users" || uris[1] != "/v1/people" {
			t.Errorf("uris = %v", route["uris"])
		}
		pr := route["plugins"].(map[string]any)["proxy-rewrite"].(map[string]any)
		if re := pr["regex_uri"].([]any); re[0] != "^/v1(/|$)(.*)" || re[1] != "/$2" {
			t.Errorf("regex_uri = %v", re)
		}
		if h := kv["/services/"+p.ID]["hosts"].([]any); len(h) != 1 || h[0] != "api.example.com" {
			t.Errorf("hosts = %v", h)
		}
		node := kv["/upstreams/"+p.ID]["nodes"].([]any)[0].(map[string]any)
		if node["host"] != "10.0.0.7" || node["weight"] != float64(3) {
			t.Errorf("runtime upstream lost: %v", node)
		}
		if p.Version != "v2" || p.Runtime.PathPrefix != "/v1" {
			t.Errorf("published = %+v", p)
		}
		h, err := fx.svc.History(fx.ctx, fx.group.ID, p.ID, ListOptions{})
		if err != nil || h.Total != 1 || h.List[0].Version != "v1" || !strings.Contains(h.List[0].Reason, "v2") {
			t.Fatalf("history = %+v, %v", h, err)
		}
		if len(h.List[0].Spec.Routes[0].Paths) != 1 {
			t.Errorf("history spec is not v1's: %+v", h.List[0].Spec.Routes)
		}

		// Rollback to v1: v1's routes, the group's current runtime.
		rb, err := fx.svc.Rollback(fx.ctx, fx.group.ID, p.ID, RollbackInput{HistoryID: h.List[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		kv = fx.dump(t, fx.group.Prefix)
		if rb.Version != "v1" || kv["/routes/"+rid]["uri"] != "/v1/users" || kv["/routes/"+rid]["uris"] != nil {
			t.Errorf("rollback: %+v, route %v", rb, kv["/routes/"+rid])
		}
		if kv["/routes/"+rid]["labels"].(map[string]any)["version"] != "v1" {
			t.Errorf("rollback label = %v", kv["/routes/"+rid]["labels"])
		}
		h, _ = fx.svc.History(fx.ctx, fx.group.ID, p.ID, ListOptions{})
		if h.Total != 2 || h.List[0].Version != "v2" {
			t.Errorf("history after rollback = %+v", h)
		}
		if _, err := fx.svc.Rollback(fx.ctx, fx.group.ID, p.ID, RollbackInput{HistoryID: "nope"}); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("rollback to unknown history: %v", err)
		}
	})
}

func TestGroupsRunDifferentVersionsInIsolation(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		other, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: fx.group.Name + "-b", Prefix: fx.group.Prefix + "_b"})
		if err != nil {
			t.Fatal(err)
		}
		tpl := mustTemplate(t, fx, httpSpec("pay", "/pay"))
		mustPublish(t, fx, tpl.ID, PublishInput{Version: "1"})
		before := fx.dump(t, fx.group.Prefix)
		mustPublish(t, fx, tpl.ID, PublishInput{GatewayGroupID: other.ID, Version: "2", ServiceID: "payments"})
		if after := fx.dump(t, fx.group.Prefix); !reflect.DeepEqual(before, after) {
			t.Fatalf("publishing to another group changed this one")
		}
		b := fx.dump(t, other.Prefix)
		if b["/services/payments"]["labels"].(map[string]any)["version"] != "2" {
			t.Errorf("other group: %v", b)
		}
		got, _ := fx.svc.GetTemplate(fx.ctx, tpl.ID)
		if len(got.Published) != 2 {
			t.Errorf("published refs = %+v", got.Published)
		}
		// The service ID is fixed on a group once chosen.
		_, err = fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: other.ID, Version: "3", ServiceID: "renamed"})
		assertInvalid(t, err, "service_id")
		if err := fx.svc.DeleteTemplate(fx.ctx, tpl.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Errorf("deleting a published template: %v", err)
		}
	})
}

func TestDeleteRemovesExactlyItsKeys(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		a := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("a", "/a")).ID, PublishInput{Version: "1"})
		b := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("b", "/b")).ID, PublishInput{Version: "1"})
		// A key written by someone else (APISIX's Admin API, say) under the prefix.
		if _, err := fx.cli.Put(fx.ctx, fx.group.Prefix+"/routes/foreign", `{"id":"foreign","uri":"/x"}`); err != nil {
			t.Fatal(err)
		}
		before := fx.dump(t, fx.group.Prefix)
		if _, err := fx.svc.DeleteService(fx.ctx, fx.group.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		after := fx.dump(t, fx.group.Prefix)
		var gone []string
		for k := range before {
			if _, ok := after[k]; !ok {
				gone = append(gone, k)
			}
		}
		sort.Strings(gone)
		want := []string{"/routes/" + a.Routes[0].ID, "/services/" + a.ID, "/upstreams/" + a.ID}
		sort.Strings(want)
		if !reflect.DeepEqual(gone, want) {
			t.Fatalf("deleted %v, want %v", gone, want)
		}
		if _, ok := after["/services/"+b.ID]; !ok {
			t.Fatal("b was deleted")
		}
		if _, err := fx.svc.GetService(fx.ctx, fx.group.ID, a.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("deleted service still listed: %v", err)
		}
		if _, err := fx.svc.DeleteService(fx.ctx, fx.group.ID, a.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestConflictsWriteNothing(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		a := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("a", "/a")).ID, PublishInput{Version: "1", ServiceID: "svc-a",
			RouteIDs: map[string]string{"r1": "shared"}})
		if _, err := fx.cli.Put(fx.ctx, fx.group.Prefix+"/upstreams/taken", `{"id":"taken","nodes":[]}`); err != nil {
			t.Fatal(err)
		}
		tplB := mustTemplate(t, fx, httpSpec("b", "/b"))
		rev := fx.revision(t)
		cases := []struct {
			name string
			in   PublishInput
		}{
			{"route ID of another service", PublishInput{Version: "1", RouteIDs: map[string]string{"r1": "shared"}}},
			{"service ID of another service", PublishInput{Version: "1", ServiceID: "svc-a"}},
			{"key written outside the product", PublishInput{Version: "1", ServiceID: "taken"}},
		}
		for _, c := range cases {
			c.in.GatewayGroupID = fx.group.ID
			_, err := fx.svc.Publish(fx.ctx, tplB.ID, c.in)
			if !errors.Is(err, apperr.ErrConflict) {
				t.Errorf("%s: err = %v, want conflict", c.name, err)
			}
		}
		if got := fx.revision(t); got != rev {
			t.Errorf("etcd revision moved from %d to %d after failed publishes", rev, got)
		}
		page, _ := fx.svc.ListServices(fx.ctx, fx.group.ID, ListOptions{})
		if page.Total != 1 || page.List[0].ID != a.ID {
			t.Errorf("services after failed publishes = %+v", page)
		}
		tb, _ := fx.svc.GetTemplate(fx.ctx, tplB.ID)
		if len(tb.Published) != 0 {
			t.Errorf("failed publish recorded: %+v", tb.Published)
		}
	})
}

func TestTooManyOperationsIsRefusedWhole(t *testing.T) {
	dbtestEachWith(t, []Option{WithMaxTxnOps(10)}, func(t *testing.T, fx *fixture) {
		spec := httpSpec("big", "/r0")
		for i := 1; i < 12; i++ {
			spec.Routes = append(spec.Routes, models.RouteSpec{Name: fmt.Sprint("route", i), Paths: []string{fmt.Sprint("/r", i)}})
		}
		tpl := mustTemplate(t, fx, spec)
		rev := fx.revision(t)
		_, err := fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: fx.group.ID, Version: "1"})
		assertInvalid(t, err, "routes")
		if fx.revision(t) != rev || len(fx.dump(t, fx.group.Prefix)) != 0 {
			t.Error("a refused publish wrote to etcd")
		}
		if page, _ := fx.svc.ListServices(fx.ctx, fx.group.ID, ListOptions{}); page.Total != 0 {
			t.Error("a refused publish was recorded")
		}
	})
}

func TestDirectServiceCreateAndEdit(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p, err := fx.svc.CreateService(fx.ctx, fx.group.ID, DirectServiceInput{ServiceSpec: httpSpec("direct", "/d"),
			ServiceID: "direct", RouteIDs: map[string]string{"r1": "direct-r1"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != "" || p.Routes[0].ID != "direct-r1" {
			t.Fatalf("direct service = %+v", p)
		}
		tpl, err := fx.svc.GetTemplate(fx.ctx, p.TemplateID)
		if err != nil || tpl.Name != "direct" {
			t.Fatalf("its template: %+v, %v", tpl, err)
		}
		kv := fx.dump(t, fx.group.Prefix)
		if _, hasVersion := kv["/routes/direct-r1"]["labels"].(map[string]any)["version"]; hasVersion {
			t.Error("a direct service carries a version label")
		}
		// Publish a version of its template, then edit the service directly.
		mustPublish(t, fx, tpl.ID, PublishInput{Version: "2"})
		edit := p.Spec
		edit.Routes[0].Paths = []string{"/edited"}
		e, err := fx.svc.UpdateService(fx.ctx, fx.group.ID, "direct", DirectServiceInput{ServiceSpec: edit})
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != "" || e.Routes[0].ID != "direct-r1" || e.Routes[0].URIs[0] != "/edited" {
			t.Errorf("edited = %+v", e)
		}
		h, _ := fx.svc.History(fx.ctx, fx.group.ID, "direct", ListOptions{})
		if h.Total != 2 || h.List[0].Version != "2" || h.List[0].Reason != "before a direct edit" {
			t.Errorf("history = %+v", h)
		}
		// The template is not the edited copy.
		tpl, _ = fx.svc.GetTemplate(fx.ctx, p.TemplateID)
		if tpl.Routes[0].Paths[0] != "/d" {
			t.Errorf("direct edit changed the template: %+v", tpl.Routes)
		}
		// Runtime edit touches only this group and keeps the spec.
		rt, err := fx.svc.UpdateRuntime(fx.ctx, fx.group.ID, "direct", models.Runtime{PathPrefix: "/api"})
		if err != nil || rt.Routes[0].URIs[0] != "/api/edited" {
			t.Fatalf("runtime: %+v %v", rt, err)
		}
		if kv := fx.dump(t, fx.group.Prefix); kv["/routes/direct-r1"]["uri"] != "/api/edited" {
			t.Errorf("runtime not applied: %v", kv["/routes/direct-r1"])
		}
	})
}

func TestRepublishKeepsPortalManagedPlugins(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		tpl := mustTemplate(t, fx, httpSpec("kept", "/kept"))
		p := mustPublish(t, fx, tpl.ID, PublishInput{Version: "1"})
		key := fx.group.Prefix + "/routes/" + p.Routes[0].ID
		resp, _ := fx.cli.Get(fx.ctx, key)
		// What the portal writes when a subscription is approved.
		withWhitelist := strings.Replace(string(resp.Kvs[0].Value), `"service_id"`,
			`"plugins":{"key-auth":{},"consumer-restriction":{"whitelist":["app_1"]}},"service_id"`, 1)
		if _, err := fx.cli.Put(fx.ctx, key, withWhitelist); err != nil {
			t.Fatal(err)
		}
		mustPublish(t, fx, tpl.ID, PublishInput{Version: "2", Runtime: &models.Runtime{PathPrefix: "/p", StripPathPrefix: true}})
		plugins := fx.dump(t, fx.group.Prefix)["/routes/"+p.Routes[0].ID]["plugins"].(map[string]any)
		wl := plugins["consumer-restriction"].(map[string]any)["whitelist"].([]any)
		if len(wl) != 1 || wl[0] != "app_1" || plugins["key-auth"] == nil || plugins["proxy-rewrite"] == nil {
			t.Fatalf("plugins after republish = %v", plugins)
		}
	})
}

func TestCanaryAndStream(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		spec := httpSpec("canary", "/c")
		spec.Upstream.Nodes = []models.NodeSpec{{Host: "127.0.0.1", Port: 1, Weight: 1}, {Host: "127.0.0.1", Port: 2, Weight: 3}}
		spec.Canary = &models.CanarySpec{Weight: 10, Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: 3, Weight: 1}}}}
		p := mustPublish(t, fx, mustTemplate(t, fx, spec).ID, PublishInput{Version: "1"})
		nodes := fx.dump(t, fx.group.Prefix)["/upstreams/"+p.ID]["nodes"].([]any)
		var weights []float64
		for _, n := range nodes {
			weights = append(weights, n.(map[string]any)["weight"].(float64))
		}
		if !reflect.DeepEqual(weights, []float64{90, 270, 10}) {
			t.Errorf("canary weights = %v", weights)
		}

		stream := models.ServiceSpec{Name: "redis", Type: TypeStream,
			Upstream:     models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: 6379, Weight: 1}}},
			StreamRoutes: []models.StreamRouteSpec{{Name: "redis", ServerPort: 16379, RemoteAddr: "127.0.0.0/8"}}}
		sp := mustPublish(t, fx, mustTemplate(t, fx, stream).ID, PublishInput{Version: "1"})
		sr := fx.dump(t, fx.group.Prefix)["/stream_routes/"+sp.StreamRoutes[0].ID]
		if sr["server_port"] != float64(16379) || sr["upstream_id"] != sp.ID || sr["remote_addr"] != "127.0.0.0/8" {
			t.Errorf("stream route = %v", sr)
		}
		if up := fx.dump(t, fx.group.Prefix)["/upstreams/"+sp.ID]; up["scheme"] != "tcp" {
			t.Errorf("stream upstream = %v", up)
		}
	})
}

// Concurrent publishes of one service leave one consistent version: every
// key carries the same version label, and the database agrees.
func TestConcurrentPublishesStayConsistent(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		spec := httpSpec("race", "/r0")
		for i := 1; i < 10; i++ {
			spec.Routes = append(spec.Routes, models.RouteSpec{Name: fmt.Sprint("route", i), Paths: []string{fmt.Sprint("/r", i)}})
		}
		tpl := mustTemplate(t, fx, spec)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: fx.group.ID, Version: fmt.Sprint("v", i)})
				if err != nil && !errors.Is(err, apperr.ErrConflict) {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("publish: %v", err)
		}
		p, err := fx.svc.GetService(fx.ctx, fx.group.ID, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range fx.dump(t, fx.group.Prefix) {
			if got := v["labels"].(map[string]any)["version"]; got != p.Version {
				t.Errorf("%s runs version %v, the database says %s", k, got, p.Version)
			}
		}
	})
}

func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *apperr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	if _, ok := ve.Fields[field]; !ok {
		t.Fatalf("validation error %v does not name %s", ve, field)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
