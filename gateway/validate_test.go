package gateway

import (
	"strings"
	"testing"

	"devportal/models"
)

// Each case breaks one rule APISIX (or the product) has and names the field
// the error must point at.
func TestSpecValidation(t *testing.T) {
	base := func() models.ServiceSpec { return httpSpec("svc", "/a") }
	cases := []struct {
		field string
		edit  func(s *models.ServiceSpec)
	}{
		{"name", func(s *models.ServiceSpec) { s.Name = "  " }},
		{"type", func(s *models.ServiceSpec) { s.Type = "grpc" }},
		{"routes", func(s *models.ServiceSpec) { s.Routes = nil }},
		{"stream_routes", func(s *models.ServiceSpec) { s.StreamRoutes = []models.StreamRouteSpec{{Name: "x", ServerPort: 9}} }},
		{"routes[0].paths", func(s *models.ServiceSpec) { s.Routes[0].Paths = nil }},
		{"routes[0].paths[0]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"no-slash"} }},
		{"routes[0].paths[0]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"/a b"} }},
		{"routes[0].paths[0]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"/a?b=1"} }},
		{"routes[0].paths[0]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"/a*b"} }},
		{"routes[0].paths[0]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"/a\x00"} }},
		{"routes[0].paths[1]", func(s *models.ServiceSpec) { s.Routes[0].Paths = []string{"/a", "/a"} }},
		{"routes[0].methods[0]", func(s *models.ServiceSpec) { s.Routes[0].Methods = []string{"FETCH"} }},
		{"routes[0].methods", func(s *models.ServiceSpec) { s.Routes[0].Methods = []string{"GET", "get"} }},
		{"routes[0].template_id", func(s *models.ServiceSpec) { s.Routes[0].TemplateID = "made-up" }},
		{"routes[1].name", func(s *models.ServiceSpec) { s.Routes = append(s.Routes, s.Routes[0]) }},
		{"upstream.nodes", func(s *models.ServiceSpec) { s.Upstream.Nodes = nil }},
		{"upstream.nodes[0].port", func(s *models.ServiceSpec) { s.Upstream.Nodes[0].Port = 70000 }},
		{"upstream.nodes[0].host", func(s *models.ServiceSpec) { s.Upstream.Nodes[0].Host = "bad host" }},
		{"upstream.nodes[0].weight", func(s *models.ServiceSpec) { s.Upstream.Nodes[0].Weight = -1 }},
		{"upstream.nodes[1]", func(s *models.ServiceSpec) { s.Upstream.Nodes = append(s.Upstream.Nodes, s.Upstream.Nodes[0]) }},
		{"upstream.type", func(s *models.ServiceSpec) { s.Upstream.Type = "random" }},
		{"upstream.key", func(s *models.ServiceSpec) { s.Upstream.Type = "chash" }},
		{"upstream.scheme", func(s *models.ServiceSpec) { s.Upstream.Scheme = "ftp" }},
		{"upstream.upstream_host", func(s *models.ServiceSpec) { s.Upstream.PassHost = "rewrite" }},
		{"canary.weight", func(s *models.ServiceSpec) {
			s.Canary = &models.CanarySpec{Weight: 100, Upstream: s.Upstream}
		}},
		{"labels.version", func(s *models.ServiceSpec) { s.Labels = map[string]string{"version": "x"} }},
		{"labels.team", func(s *models.ServiceSpec) { s.Labels = map[string]string{"team": "a b"} }},
	}
	for _, c := range cases {
		s := base()
		c.edit(&s)
		assertInvalid(t, normalizeSpec(&s, nil), c.field)
	}
	s := base()
	if err := normalizeSpec(&s, nil); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
	if s.Upstream.Type != "roundrobin" || s.Upstream.Scheme != "http" || s.Routes[0].Methods[0] != "GET" {
		t.Errorf("defaults not applied: %+v", s)
	}
	stream := models.ServiceSpec{Name: "s", Type: TypeStream, Upstream: s.Upstream,
		StreamRoutes: []models.StreamRouteSpec{{Name: "x", ServerPort: 0, RemoteAddr: "nope"}}}
	assertInvalid(t, normalizeSpec(&stream, nil), "stream_routes[0].server_port")
	assertInvalid(t, normalizeSpec(&stream, nil), "stream_routes[0].remote_addr")
}

func TestRuntimeValidation(t *testing.T) {
	for field, rt := range map[string]models.Runtime{
		"runtime.path_prefix":       {PathPrefix: "/api/"},
		"runtime.strip_path_prefix": {StripPathPrefix: true},
		"runtime.hosts[0]":          {Hosts: []string{"bad host"}},
		"runtime.hosts[1]":          {Hosts: []string{"a.com", "A.com"}},
	} {
		assertInvalid(t, normalizeRuntime(&rt, TypeHTTP), field)
	}
	ok := models.Runtime{Hosts: []string{"*.Example.com"}, PathPrefix: "/api", StripPathPrefix: true}
	if err := normalizeRuntime(&ok, TypeHTTP); err != nil || ok.Hosts[0] != "*.example.com" {
		t.Fatalf("valid runtime: %v %+v", err, ok)
	}
}

func TestPluginTemplateValidation(t *testing.T) {
	for field, in := range map[string]PluginTemplateInput{
		"name":                 {Plugins: map[string]any{"cors": map[string]any{}}},
		"plugins":              {Name: "x"},
		"plugins.key-auth":     {Name: "x", Plugins: map[string]any{"key-auth": map[string]any{}}},
		"plugins.proxy-rewrit": {Name: "x", Plugins: map[string]any{"proxy-rewrit": map[string]any{}}},
		"plugins.cors":         {Name: "x", Plugins: map[string]any{"cors": "yes"}},
	} {
		assertInvalid(t, validatePluginTemplate(&in), field)
	}
}

func TestPluginTemplateWarnsOfPluginsTheNodeSkips(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		pt, err := fx.svc.CreatePluginTemplate(fx.ctx, PluginTemplateInput{Name: "mixed-" + fx.group.ID, Plugins: map[string]any{
			"cors": map[string]any{}, "proxy-rewrite": map[string]any{"uri": "/x"}, "http-logger": map[string]any{"uri": "http://127.0.0.1:1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(pt.Warnings) != 1 || !strings.HasPrefix(pt.Warnings[0], "cors:") {
			t.Fatalf("warnings = %v", pt.Warnings)
		}
	})
}
