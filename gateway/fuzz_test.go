package gateway

import (
	"encoding/json"
	"errors"
	"testing"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/models"
)

// FuzzServiceSpec: whatever JSON an Admin API client sends as a service
// template, validation answers with field errors or accepts it, and an
// accepted spec renders into APISIX objects that decode back and carry
// routes with paths APISIX takes.
// Run: go test ./gateway -run '^$' -fuzz FuzzServiceSpec -fuzztime 60s
func FuzzServiceSpec(f *testing.F) {
	good, _ := json.Marshal(httpSpec("svc", "/a", "/b/*"))
	f.Add(string(good), "/api", true)
	f.Add(`{"name":"s","type":"stream","upstream":{"nodes":[{"host":"h","port":1}]},"stream_routes":[{"name":"x","server_port":9000}]}`, "", false)
	f.Add(`{"name":"s","upstream":{"type":"chash","key":"remote_addr","nodes":[{"host":"h","port":1,"weight":0}]},"routes":[{"name":"r","paths":["/:id"]}],"canary":{"weight":5,"upstream":{"nodes":[{"host":"c","port":2}]}}}`, "/x", false)
	f.Fuzz(func(t *testing.T, body, prefix string, strip bool) {
		var spec models.ServiceSpec
		if json.Unmarshal([]byte(body), &spec) != nil {
			return
		}
		err := normalizeSpec(&spec, nil)
		var ve *apperr.ValidationError
		if err != nil {
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("not a field error: %v", err)
			}
			return
		}
		rt := models.Runtime{PathPrefix: prefix, StripPathPrefix: strip && prefix != ""}
		if normalizeRuntime(&rt, spec.Type) != nil {
			return
		}
		routeIDs := map[string]string{}
		for i := range spec.Routes {
			spec.Routes[i].TemplateID = "r" + itoa(i)
			routeIDs[spec.Routes[i].TemplateID] = spec.Routes[i].TemplateID
		}
		for i := range spec.StreamRoutes {
			spec.StreamRoutes[i].TemplateID = "s" + itoa(i)
			routeIDs[spec.StreamRoutes[i].TemplateID] = spec.StreamRoutes[i].TemplateID
		}
		p := &models.PublishedService{GroupID: "g", ServiceID: "svc", TemplateID: "t", Version: "1",
			Spec: models.NewJSON(spec), Runtime: models.NewJSON(rt), RouteIDs: models.NewJSON(routeIDs)}
		res, err := renderService("/apisix", p)
		if err != nil {
			if errors.As(err, &ve) {
				return // strip conflicts with a template's own rewrite
			}
			t.Fatalf("render: %v", err)
		}
		for _, r := range res {
			b, err := r.stamp(1)(nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.kind == apisix.KindRoutes {
				var route apisix.Route
				if err := json.Unmarshal(b, &route); err != nil {
					t.Fatalf("route JSON does not decode: %v", err)
				}
				for _, u := range append(route.URIs, route.URI) {
					if u != "" && pathProblem(u) != "" {
						t.Fatalf("rendered a path APISIX would refuse: %q (%s)", u, pathProblem(u))
					}
				}
			}
		}
	})
}

// FuzzApplyOps: any sequence of ops on any stored value never panics, and
// a whitelist never ends up empty (APISIX refuses an empty one).
// Run: go test ./gateway -run '^$' -fuzz FuzzApplyOps -fuzztime 60s
func FuzzApplyOps(f *testing.F) {
	f.Add([]byte(`{"id":"r","uri":"/a","plugins":{"consumer-restriction":{"whitelist":["a"]}}}`), []byte{4, 5, 6, 4, 6, 6})
	f.Add([]byte(`not json`), []byte{0, 1, 2, 3})
	f.Add([]byte(`{"plugins":[]}`), []byte{4, 5})
	f.Fuzz(func(t *testing.T, cur []byte, script []byte) {
		kinds := []OpKind{OpConsumerPut, OpConsumerDelete, OpCredentialPut, OpCredentialDelete, OpRoutePolicy, OpWhitelistAdd, OpWhitelistRemove}
		var ops []Op
		for i, b := range script {
			op := Op{Kind: kinds[int(b)%len(kinds)], RouteID: "r", Username: "app_" + itoa(int(b)%3), CredentialID: "c", EncryptedKey: "k"}
			if op.Kind == OpRoutePolicy {
				op.KeyAuth = i%2 == 0
			}
			ops = append(ops, op)
		}
		out, err := applyOps(cur, ops, 1)
		if err != nil || out == nil {
			return
		}
		var v struct {
			Plugins map[string]json.RawMessage `json:"plugins"`
		}
		if json.Unmarshal(out, &v) != nil {
			t.Fatalf("output is not JSON: %s", out)
		}
		if cr, ok := v.Plugins["consumer-restriction"]; ok {
			var c struct {
				Whitelist []string `json:"whitelist"`
			}
			if json.Unmarshal(cr, &c) == nil && c.Whitelist != nil && len(c.Whitelist) == 0 {
				t.Fatalf("empty whitelist written: %s", out)
			}
		}
	})
}
