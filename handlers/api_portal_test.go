package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"devportal/internal/dbtest"
	"devportal/portal/apps"
	"devportal/portal/audit"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
)

var ordersDoc = map[string]any{
	"openapi": "3.0.3",
	"info":    map[string]any{"title": "Orders", "version": "1.0"},
	"paths": map[string]any{"/orders": map[string]any{"get": map[string]any{
		"responses": map[string]any{"200": map[string]any{"description": "the orders"}}}}},
}

// newAPI publishes a one-route service on the test's group and puts it on
// the portal with the given policies (published when publish is true).
func (e *portalEnv) newAPI(t *testing.T, name, path string, port int, auth, approval string, publish bool) catalog.API {
	t.Helper()
	svc := e.w.PublishService(t, dbtest.Name(name), path, "127.0.0.1", port)
	var a catalog.API
	e.must(t, 201, "POST", "/api/v1/portal/apis", map[string]any{
		"gateway_group_id": e.w.Group.ID, "service_id": svc.ID, "route_id": svc.Routes[0].ID,
		"name": dbtest.Name(name), "auth": auth, "approval": approval,
	}, &a)
	if publish {
		e.must(t, 200, "POST", "/api/v1/portal/apis/"+a.ID+"/publish", nil, &a)
	}
	return a
}

func (e *portalEnv) newOrg(t *testing.T) orgs.Org {
	t.Helper()
	var o orgs.Org
	e.must(t, 201, "POST", "/api/v1/organizations", map[string]any{"name": dbtest.Name("org")}, &o)
	return o
}

func (e *portalEnv) newApp(t *testing.T, orgID string) apps.Created {
	t.Helper()
	var a apps.Created
	e.must(t, 201, "POST", "/api/v1/organizations/"+orgID+"/applications", map[string]any{"name": dbtest.Name("app")}, &a)
	return a
}

func TestPortalAPIsAPI(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		svc := e.w.PublishService(t, "orders", "/orders", "127.0.0.1", 8081)
		body := map[string]any{
			"gateway_group_id": e.w.Group.ID, "service_id": svc.ID, "route_id": svc.Routes[0].ID,
			"name": "Orders", "description": "all the orders", "openapi": ordersDoc,
			"auth": "key-auth", "approval": "manual", "rate_limit": map[string]any{"count": 10, "time_window": 60},
		}
		var a catalog.API
		e.must(t, 201, "POST", "/api/v1/portal/apis", body, &a)
		if a.ID == "" || a.Published || !a.Available || a.Auth != "key-auth" || a.Approval != "manual" ||
			a.RateLimit == nil || a.RateLimit.Count != 10 || !a.HasDoc || a.GatewayGroupID != e.w.Group.ID {
			t.Fatalf("created API = %+v", a)
		}

		// Bad input: 400 naming the field; nothing is created.
		for _, c := range []struct {
			name  string
			edit  func(map[string]any)
			field string
		}{
			{"same name", func(b map[string]any) { b["route_id"] = "" }, "name"},
			{"bad auth", func(b map[string]any) { b["name"], b["auth"] = "x", "basic" }, "auth"},
			{"bad approval", func(b map[string]any) { b["name"], b["approval"] = "x", "later" }, "approval"},
			{"bad rate limit", func(b map[string]any) { b["name"], b["rate_limit"] = "x", map[string]any{"count": 0, "time_window": 1} }, "rate_limit.count"},
			{"not OpenAPI 3", func(b map[string]any) { b["name"], b["openapi"] = "x", map[string]any{"swagger": "2.0"} }, "openapi"},
			{"broken document", func(b map[string]any) { b["name"], b["openapi"] = "x", "openapi: [3" }, "openapi"},
			{"unknown service", func(b map[string]any) { b["name"], b["service_id"], b["route_id"] = "x", "nope", "" }, "service_id"},
			{"missing group", func(b map[string]any) { b["name"] = "x"; delete(b, "gateway_group_id") }, "gateway_group_id"},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			c.edit(b)
			r := e.call(t, "POST", "/api/v1/portal/apis", b)
			if r.Status != 400 {
				t.Fatalf("%s: %d %s, want 400", c.name, r.Status, r.Body)
			}
			if code, _, fields := r.Error(t); code != "invalid_input" || fields[c.field] == "" {
				t.Fatalf("%s: %s, want a message for %s", c.name, r.Body, c.field)
			}
		}
		// Read-only fields cannot be set through the body.
		for _, f := range []string{`"published":true`, `"id":"mine"`, `"available":true`} {
			wantError(t, e.call(t, "POST", "/api/v1/portal/apis", `{"name":"x",`+f+`}`), 400, "invalid_json", "")
		}
		wantError(t, e.call(t, "POST", "/api/v1/portal/apis", `{"name":"x","openapi":5}`), 400, "invalid_json", "")

		var list struct {
			List  []catalog.API `json:"list"`
			Total int64         `json:"total"`
		}
		e.must(t, 200, "GET", "/api/v1/portal/apis", nil, &list)
		if list.Total != 1 || list.List[0].ID != a.ID {
			t.Fatalf("APIs = %+v, want only %s", list, a.ID)
		}
		e.must(t, 200, "GET", "/api/v1/portal/apis?published=true", nil, &list)
		if list.Total != 0 {
			t.Fatalf("published APIs before publishing = %+v", list)
		}
		wantError(t, e.call(t, "GET", "/api/v1/portal/apis?published=maybe", nil), 400, "invalid_input", "published")
		wantError(t, e.call(t, "GET", "/api/v1/portal/apis/nope", nil), 404, "not_found", "")

		// The document comes back as uploaded.
		r := e.call(t, "GET", "/api/v1/portal/apis/"+a.ID+"/openapi", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(r.Body), `"3.0.3"`) {
			t.Fatalf("openapi = %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}

		// Update: a YAML document, automatic approval, no rate limit.
		body["approval"], body["openapi"] = "auto", "openapi: 3.0.3\ninfo: {title: Orders, version: '2'}\npaths: {}\n"
		delete(body, "rate_limit")
		id := a.ID
		a = catalog.API{}
		e.must(t, 200, "PUT", "/api/v1/portal/apis/"+id, body, &a)
		if a.Approval != "auto" || a.RateLimit != nil {
			t.Fatalf("updated = %+v", a)
		}
		r = e.call(t, "GET", "/api/v1/portal/apis/"+a.ID+"/openapi", nil)
		if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "yaml") || !strings.HasPrefix(string(r.Body), "openapi: 3.0.3") {
			t.Fatalf("YAML openapi = %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		wantError(t, e.call(t, "PUT", "/api/v1/portal/apis/nope", body), 404, "not_found", "")

		// Publish applies key auth on the route; unpublish hides it.
		e.must(t, 200, "POST", "/api/v1/portal/apis/"+a.ID+"/publish", nil, &a)
		if !a.Published || a.PublishedAt == nil {
			t.Fatalf("published = %+v", a)
		}
		e.w.Drain(t)
		if v := e.etcdJSON(t, e.w.Group.Prefix+"/routes/"+svc.Routes[0].ID); !strings.Contains(v, `"key-auth"`) {
			t.Fatalf("published route in etcd = %s, want key-auth", v)
		}
		e.must(t, 200, "GET", "/api/v1/portal/apis?published=true", nil, &list)
		if list.Total != 1 {
			t.Fatalf("published APIs = %+v", list)
		}
		e.must(t, 200, "POST", "/api/v1/portal/apis/"+a.ID+"/unpublish", nil, &a)
		if a.Published {
			t.Fatalf("unpublished = %+v", a)
		}
		wantError(t, e.call(t, "POST", "/api/v1/portal/apis/nope/publish", nil), 404, "not_found", "")

		// An API without a document has no /openapi.
		bare := e.newAPI(t, "bare", "/bare", 8082, "none", "auto", false)
		wantError(t, e.call(t, "GET", "/api/v1/portal/apis/"+bare.ID+"/openapi", nil), 404, "not_found", "")

		e.must(t, 204, "DELETE", "/api/v1/portal/apis/"+a.ID, nil, nil)
		wantError(t, e.call(t, "GET", "/api/v1/portal/apis/"+a.ID, nil), 404, "not_found", "")
		wantError(t, e.call(t, "DELETE", "/api/v1/portal/apis/"+a.ID, nil), 404, "not_found", "")
	})
}

func TestOrganizationsAPI(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		var list struct {
			List  []orgs.Org `json:"list"`
			Total int64      `json:"total"`
		}
		e.must(t, 200, "GET", "/api/v1/organizations?search=default", nil, &list)
		if list.Total != 1 || list.List[0].ID != orgs.DefaultID {
			t.Fatalf("organizations = %+v, want default", list)
		}
		var o orgs.Org
		e.must(t, 201, "POST", "/api/v1/organizations", map[string]any{"name": "Acme"}, &o)
		if o.ID == "" || o.Name != "Acme" {
			t.Fatalf("created = %+v", o)
		}
		wantError(t, e.call(t, "POST", "/api/v1/organizations", map[string]any{"name": "acme"}), 400, "invalid_input", "name")
		wantError(t, e.call(t, "POST", "/api/v1/organizations", map[string]any{"name": " "}), 400, "invalid_input", "name")
		wantError(t, e.call(t, "POST", "/api/v1/organizations", map[string]any{"name": 5}), 400, "invalid_json", "")
		e.must(t, 200, "GET", "/api/v1/organizations/"+o.ID, nil, &o)
		if o.Name != "Acme" {
			t.Fatalf("GET = %+v", o)
		}
		wantError(t, e.call(t, "GET", "/api/v1/organizations/nope", nil), 404, "not_found", "")

		// Developers: a new account, then the same e-mail again.
		var m orgs.Member
		e.must(t, 201, "POST", "/api/v1/organizations/"+o.ID+"/developers", map[string]any{
			"email": "dana@example.com", "name": "Dana", "password": "dana-pass-123", "role": "admin",
		}, &m)
		if m.ID == "" || m.Email != "dana@example.com" || m.Role != "admin" {
			t.Fatalf("added = %+v", m)
		}
		e.must(t, 201, "POST", "/api/v1/organizations/"+o.ID+"/developers", map[string]any{"email": "sam@example.com", "name": "Sam"}, nil)
		wantError(t, e.call(t, "POST", "/api/v1/organizations/"+o.ID+"/developers", map[string]any{"email": "dana@example.com"}), 400, "invalid_input", "email")
		wantError(t, e.call(t, "POST", "/api/v1/organizations/"+o.ID+"/developers", map[string]any{"email": "x@example.com", "role": "owner"}), 400, "invalid_input", "role")
		wantError(t, e.call(t, "POST", "/api/v1/organizations/nope/developers", map[string]any{"email": "x@example.com"}), 404, "not_found", "")
		var members struct {
			List  []orgs.Member `json:"list"`
			Total int64         `json:"total"`
		}
		e.must(t, 200, "GET", "/api/v1/organizations/"+o.ID+"/developers", nil, &members)
		if members.Total != 2 {
			t.Fatalf("developers = %+v", members)
		}
		// The default organization does not see Acme's developers.
		e.must(t, 200, "GET", "/api/v1/organizations/default/developers?search=dana", nil, &members)
		if members.Total != 0 {
			t.Fatalf("default organization's developers = %+v", members)
		}
		// The last admin cannot leave while others remain.
		wantError(t, e.call(t, "DELETE", "/api/v1/organizations/"+o.ID+"/developers/"+m.ID, nil), 409, "conflict", "")
		e.must(t, 200, "GET", "/api/v1/organizations/"+o.ID+"/developers?search=sam", nil, &members)
		e.must(t, 204, "DELETE", "/api/v1/organizations/"+o.ID+"/developers/"+members.List[0].ID, nil, nil)
		wantError(t, e.call(t, "DELETE", "/api/v1/organizations/"+o.ID+"/developers/"+members.List[0].ID, nil), 404, "not_found", "")
		e.must(t, 200, "GET", "/api/v1/organizations/"+o.ID, nil, &o)
		e.must(t, 200, "GET", "/api/v1/organizations?search=acme", nil, &list)
		if list.Total != 1 || list.List[0].Members != 1 {
			t.Fatalf("Acme = %+v, want 1 member", list)
		}
	})
}

func TestApplicationsAPI(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		a, b := e.newOrg(t), e.newOrg(t)
		app := e.newApp(t, a.ID)
		if app.ID == "" || app.OrgID != a.ID || app.Consumer != "app_"+app.ID || !strings.HasPrefix(app.APIKey, "dpk_") {
			t.Fatalf("created = %+v", app)
		}
		keys := []string{app.APIKey}

		// The same name in the same organization is refused; in another it is fine.
		wantError(t, e.call(t, "POST", "/api/v1/organizations/"+a.ID+"/applications", map[string]any{"name": app.Name}), 400, "invalid_input", "name")
		e.must(t, 201, "POST", "/api/v1/organizations/"+b.ID+"/applications", map[string]any{"name": app.Name, "description": "b's"}, nil)
		wantError(t, e.call(t, "POST", "/api/v1/organizations/"+a.ID+"/applications", map[string]any{"name": ""}), 400, "invalid_input", "name")
		wantError(t, e.call(t, "POST", "/api/v1/organizations/nope/applications", map[string]any{"name": "x"}), 404, "not_found", "")
		for _, f := range []string{"api_key", "organization_id", "consumer", "id"} {
			wantError(t, e.call(t, "POST", "/api/v1/organizations/"+a.ID+"/applications", map[string]any{"name": "x", f: "mine"}), 400, "invalid_json", "")
		}

		// Each organization lists its own applications only.
		var list struct {
			List  []apps.App `json:"list"`
			Total int64      `json:"total"`
		}
		e.must(t, 200, "GET", "/api/v1/organizations/"+a.ID+"/applications", nil, &list)
		if list.Total != 1 || list.List[0].ID != app.ID {
			t.Fatalf("a's applications = %+v", list)
		}
		e.must(t, 200, "GET", "/api/v1/organizations/"+b.ID+"/applications", nil, &list)
		if list.Total != 1 || list.List[0].ID == app.ID || list.List[0].OrgID != b.ID {
			t.Fatalf("b's applications = %+v", list)
		}
		wantError(t, e.call(t, "GET", "/api/v1/organizations/nope/applications", nil), 404, "not_found", "")

		// Rotation: bad grace periods are 400.
		for _, body := range []any{map[string]any{}, map[string]any{"grace_seconds": -1}, map[string]any{"grace_seconds": 2592001},
			map[string]any{"grace_seconds": int64(1) << 62}} {
			wantError(t, e.call(t, "POST", "/api/v1/applications/"+app.ID+"/keys/rotate", body), 400, "invalid_input", "grace_seconds")
		}
		wantError(t, e.call(t, "POST", "/api/v1/applications/"+app.ID+"/keys/rotate", map[string]any{"grace_seconds": "1h"}), 400, "invalid_json", "")
		wantError(t, e.call(t, "POST", "/api/v1/applications/nope/keys/rotate", map[string]any{"grace_seconds": 0}), 404, "not_found", "")
		var rotated struct {
			APIKey string `json:"api_key"`
		}
		e.must(t, 200, "POST", "/api/v1/applications/"+app.ID+"/keys/rotate", map[string]any{"grace_seconds": 3600}, &rotated)
		if !strings.HasPrefix(rotated.APIKey, "dpk_") || rotated.APIKey == app.APIKey {
			t.Fatalf("rotated key = %q", rotated.APIKey)
		}
		keys = append(keys, rotated.APIKey)
		e.must(t, 200, "POST", "/api/v1/applications/"+app.ID+"/keys/rotate", map[string]any{"grace_seconds": 2592000}, &rotated)
		keys = append(keys, rotated.APIKey)

		// GET shows the keys' hints and expiry, never a key.
		var got apps.App
		r := e.call(t, "GET", "/api/v1/applications/"+app.ID, nil)
		r.JSON(t, &got)
		if r.Status != 200 || len(got.Keys) != 3 || got.Consumer != app.Consumer {
			t.Fatalf("GET application = %d %s", r.Status, r.Body)
		}
		if got.Keys[0].ExpiresAt != nil || got.Keys[1].ExpiresAt == nil || !got.Keys[1].Active {
			t.Fatalf("keys = %+v, want the newest without expiry and the others in their grace", got.Keys)
		}
		for _, path := range []string{"/api/v1/applications/" + app.ID, "/api/v1/organizations/" + a.ID + "/applications", "/api/v1/audit?limit=200"} {
			body := string(e.call(t, "GET", path, nil).Body)
			if strings.Contains(body, "api_key") {
				t.Fatalf("GET %s has an api_key field: %s", path, body)
			}
			for _, k := range keys {
				if strings.Contains(body, k) || strings.Contains(body, k[len(k)-20:]) {
					t.Fatalf("GET %s shows a key: %s", path, body)
				}
			}
		}
		// The admin's actions are in the audit log.
		var log struct {
			List  []audit.Entry `json:"list"`
			Total int64         `json:"total"`
		}
		e.must(t, 200, "GET", "/api/v1/audit?target_type=application&target_id="+app.ID, nil, &log)
		if log.Total != 3 || log.List[0].Action != "application.key.rotate" || log.List[2].Action != "application.create" || log.List[0].ActorEmail != e.w.Admin.Email {
			t.Fatalf("audit of the application = %+v", log)
		}

		// Delete: gone, and the other organization's application stays.
		e.must(t, 204, "DELETE", "/api/v1/applications/"+app.ID, nil, nil)
		wantError(t, e.call(t, "GET", "/api/v1/applications/"+app.ID, nil), 404, "not_found", "")
		wantError(t, e.call(t, "DELETE", "/api/v1/applications/"+app.ID, nil), 404, "not_found", "")
		e.must(t, 200, "GET", "/api/v1/organizations/"+b.ID+"/applications", nil, &list)
		if list.Total != 1 {
			t.Fatalf("b's applications after deleting a's = %+v", list)
		}
	})
}

func TestSubscriptionsAPI(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		api := e.newAPI(t, "orders", "/orders", 8081, "key-auth", "manual", true)
		a, b := e.newOrg(t), e.newOrg(t)
		app, other := e.newApp(t, a.ID), e.newApp(t, b.ID)

		var s subscriptions.Subscription
		e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &s)
		if s.ID == "" || s.Status != "pending" || s.AppID != app.ID || s.APIID != api.ID || s.OrgID != a.ID {
			t.Fatalf("subscription = %+v", s)
		}
		// Subscribing twice conflicts; bad references are 400/404.
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}), 409, "conflict", "")
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID}), 400, "invalid_input", "api_id")
		// A subscription cannot be created approved, nor for another organization.
		for _, f := range []string{"status", "organization_id", "id"} {
			wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": other.ID, "api_id": api.ID, f: "approved"}), 400, "invalid_json", "")
		}
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": "nope", "api_id": api.ID}), 404, "not_found", "")
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": "nope"}), 404, "not_found", "")
		open := e.newAPI(t, "open", "/open", 8082, "none", "auto", true)
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": open.ID}), 400, "invalid_input", "api_id")
		hidden := e.newAPI(t, "hidden", "/hidden", 8083, "key-auth", "manual", false)
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": hidden.ID}), 409, "conflict", "")

		// Automatic approval approves at once.
		auto := e.newAPI(t, "auto", "/auto", 8084, "key-auth", "auto", true)
		var s2 subscriptions.Subscription
		e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": other.ID, "api_id": auto.ID}, &s2)
		if s2.Status != "approved" {
			t.Fatalf("auto subscription = %+v", s2)
		}

		// Filters, and organization scoping.
		type page struct {
			List  []subscriptions.Subscription `json:"list"`
			Total int64                        `json:"total"`
		}
		for q, want := range map[string]string{
			"?status=pending":                       s.ID,
			"?status=approved":                      s2.ID,
			"?organization_id=" + a.ID:              s.ID,
			"?organization_id=" + b.ID:              s2.ID,
			"?application_id=" + other.ID:           s2.ID,
			"?api_id=" + api.ID:                     s.ID,
			"?api_id=" + api.ID + "&status=pending": s.ID,
		} {
			var p page
			e.must(t, 200, "GET", "/api/v1/subscriptions"+q, nil, &p)
			if p.Total != 1 || len(p.List) != 1 || p.List[0].ID != want {
				t.Fatalf("subscriptions%s = %+v, want only %s", q, p, want)
			}
		}
		var p page
		e.must(t, 200, "GET", "/api/v1/subscriptions", nil, &p)
		if p.Total != 2 {
			t.Fatalf("all subscriptions = %+v", p)
		}
		e.must(t, 200, "GET", "/api/v1/subscriptions?organization_id="+a.ID+"&status=approved", nil, &p)
		if p.Total != 0 {
			t.Fatalf("a's approved subscriptions = %+v", p)
		}
		wantError(t, e.call(t, "GET", "/api/v1/subscriptions?status=maybe", nil), 400, "invalid_input", "status")

		// Transitions.
		e.must(t, 200, "POST", "/api/v1/subscriptions/"+s.ID+"/approve", nil, &s)
		if s.Status != "approved" || s.DecidedAt == nil {
			t.Fatalf("approved = %+v", s)
		}
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/approve", nil), 409, "conflict", "")
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/reject", nil), 409, "conflict", "")
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/revoke", `{"reason": 5}`), 400, "invalid_json", "")
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/revoke", map[string]any{"reason": strings.Repeat("x", 2001)}), 400, "invalid_input", "reason")
		e.must(t, 200, "POST", "/api/v1/subscriptions/"+s.ID+"/revoke", map[string]any{"reason": "abuse"}, &s)
		if s.Status != "revoked" || s.Reason != "abuse" {
			t.Fatalf("revoked = %+v", s)
		}
		// Approving a revoked subscription is an illegal transition.
		r := e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/approve", nil)
		wantError(t, r, 409, "conflict", "")
		if _, msg, _ := r.Error(t); !strings.Contains(msg, "revoked") {
			t.Fatalf("409 message = %q, want it to say the subscription is revoked", msg)
		}
		wantError(t, e.call(t, "POST", "/api/v1/subscriptions/"+s.ID+"/revoke", nil), 409, "conflict", "")
		e.must(t, 200, "GET", "/api/v1/subscriptions/"+s.ID, nil, &s)
		if s.Status != "revoked" {
			t.Fatalf("GET after the refused approval = %+v", s)
		}

		// A new request after a revocation; rejected without a body.
		var s3 subscriptions.Subscription
		e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, &s3)
		e.must(t, 200, "POST", "/api/v1/subscriptions/"+s3.ID+"/reject", nil, &s3)
		if s3.Status != "rejected" {
			t.Fatalf("rejected = %+v", s3)
		}
		for _, verb := range []string{"approve", "reject", "revoke"} {
			wantError(t, e.call(t, "POST", "/api/v1/subscriptions/nope/"+verb, nil), 404, "not_found", "")
		}
		wantError(t, e.call(t, "GET", "/api/v1/subscriptions/nope", nil), 404, "not_found", "")

		// The audit log: the decisions, filtered and paged.
		var log struct {
			List         []audit.Entry `json:"list"`
			Total        int64         `json:"total"`
			NextBeforeID int64         `json:"next_before_id"`
		}
		e.must(t, 200, "GET", "/api/v1/audit?action=subscription.approve", nil, &log)
		if log.Total != 1 || log.List[0].TargetID != s.ID || log.List[0].TargetType != "subscription" || !strings.Contains(log.List[0].After, "approved") {
			t.Fatalf("approvals in the audit log = %+v", log)
		}
		e.must(t, 200, "GET", "/api/v1/audit?target_type=subscription&limit=2", nil, &log)
		if log.Total != 2 || log.NextBeforeID != log.List[1].ID {
			t.Fatalf("first page = %+v", log)
		}
		next := log.NextBeforeID
		log.List, log.NextBeforeID = nil, 0
		e.must(t, 200, "GET", "/api/v1/audit?target_type=subscription&limit=2&before_id="+itoa(next), nil, &log)
		if log.Total != 1 || log.List[0].Action != "subscription.approve" || log.NextBeforeID != 0 {
			t.Fatalf("second page = %+v", log)
		}
		for _, q := range []string{"limit=0", "limit=201", "limit=x", "before_id=0", "before_id=x"} {
			r := e.call(t, "GET", "/api/v1/audit?"+q, nil)
			if r.Status != 400 {
				t.Fatalf("audit?%s = %d %s, want 400", q, r.Status, r.Body)
			}
		}
	})
}

func TestDriftReconcileOutboxAPI(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		api := e.newAPI(t, "orders", "/orders", 8081, "key-auth", "auto", true)
		org := e.newOrg(t)
		app := e.newApp(t, org.ID)
		e.must(t, 201, "POST", "/api/v1/subscriptions", map[string]any{"application_id": app.ID, "api_id": api.ID}, nil)
		var out struct {
			Pending *int64 `json:"pending"`
		}
		e.must(t, 200, "GET", "/api/v1/outbox", nil, &out)
		if out.Pending == nil || *out.Pending == 0 {
			t.Fatalf("outbox before draining = %+v, want changes waiting", out)
		}
		e.w.Drain(t)
		e.must(t, 200, "GET", "/api/v1/outbox", nil, &out)
		if *out.Pending != 0 {
			t.Fatalf("outbox after draining = %d", *out.Pending)
		}

		type report struct {
			GroupID  string `json:"gateway_group_id"`
			Checked  int    `json:"checked"`
			Repaired int    `json:"repaired"`
			Drift    []struct {
				Key   string `json:"key"`
				Issue string `json:"issue"`
			} `json:"drift"`
		}
		var rep report
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+e.w.Group.ID+"/drift", nil, &rep)
		if rep.GroupID != e.w.Group.ID || rep.Checked == 0 || len(rep.Drift) != 0 {
			t.Fatalf("drift of a clean group = %+v", rep)
		}
		// Someone deletes the consumer in etcd by hand.
		consumer := e.w.Group.Prefix + "/consumers/" + app.Consumer
		if _, err := e.cli.Delete(e.w.Ctx, consumer); err != nil {
			t.Fatal(err)
		}
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+e.w.Group.ID+"/drift", nil, &rep)
		if len(rep.Drift) != 1 || rep.Drift[0].Key != consumer || rep.Drift[0].Issue != "missing" || rep.Repaired != 0 {
			t.Fatalf("drift = %+v, want the missing consumer", rep)
		}
		e.must(t, 200, "POST", "/api/v1/gateway_groups/"+e.w.Group.ID+"/reconcile", nil, &rep)
		if rep.Repaired != 1 {
			t.Fatalf("reconcile = %+v, want 1 repaired", rep)
		}
		e.must(t, 200, "GET", "/api/v1/gateway_groups/"+e.w.Group.ID+"/drift", nil, &rep)
		if len(rep.Drift) != 0 {
			t.Fatalf("drift after reconcile = %+v", rep)
		}
		if v := e.etcdJSON(t, consumer); !strings.Contains(v, app.Consumer) {
			t.Fatalf("consumer after reconcile = %q", v)
		}
		wantError(t, e.call(t, "GET", "/api/v1/gateway_groups/nope/drift", nil), 404, "not_found", "")
		wantError(t, e.call(t, "POST", "/api/v1/gateway_groups/nope/reconcile", nil), 404, "not_found", "")
	})
}

// etcdJSON reads one key's value ("" when absent).
func (e *env) etcdJSON(t *testing.T, key string) string {
	t.Helper()
	resp, err := e.cli.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
