package handlers

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeBody(t *testing.T) {
	const js = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		into        func() any
		status      int    // 0: no error
		wantMsg     string // substring of the message
	}{
		{name: "ok", contentType: js, body: `{"name":"a","type":"http","upstream":{"nodes":[{"host":"h","port":80,"weight":1}]}}`,
			into: newTemplate},
		{name: "charset and case-insensitive keys", contentType: "application/json; charset=utf-8", body: `{"NAME":"a"}`,
			into: newTemplate},
		{name: "vendor json type", contentType: "application/vnd.devportal+json", body: `{"name":"a"}`,
			into: newTemplate},
		{name: "null leaves defaults", contentType: js, body: `{"name":null,"routes":null}`, into: newTemplate},
		{name: "empty body", contentType: js, body: "", into: newTemplate,
			status: 400, wantMsg: "request body is empty"},
		{name: "blank body", contentType: js, body: " \n ", into: newTemplate,
			status: 400, wantMsg: "request body is empty"},
		{name: "wrong content type", contentType: "application/x-www-form-urlencoded", body: `name=a`, into: newTemplate,
			status: 415, wantMsg: "Content-Type must be application/json, got application/x-www-form-urlencoded"},
		{name: "no content type", contentType: "", body: `{"name":"a"}`, into: newTemplate,
			status: 415, wantMsg: "got none"},
		{name: "malformed", contentType: js, body: `{"name": "a",}`, into: newTemplate,
			status: 400, wantMsg: "malformed JSON at offset 14"},
		{name: "truncated", contentType: js, body: `{"name": "a"`, into: newTemplate,
			status: 400, wantMsg: "malformed JSON at offset 12: unexpected end of input"},
		{name: "trailing data", contentType: js, body: `{"name": "a"} {}`, into: newTemplate,
			status: 400, wantMsg: "unexpected data after the top-level value"},
		{name: "top-level array", contentType: js, body: `[1,2]`, into: newTemplate,
			status: 400, wantMsg: "request body: want object, got array"},
		{name: "string for array, with index", contentType: js,
			body: `{"name":"a","routes":[{"paths":["/a"]},{"paths":"/b"}]}`, into: newTemplate,
			status: 400, wantMsg: "field routes[1].paths: want array of strings, got string"},
		{name: "number for string", contentType: js, body: `{"name":12}`, into: newTemplate,
			status: 400, wantMsg: "field name: want string, got number 12"},
		{name: "fraction for integer", contentType: js, body: `{"upstream":{"nodes":[{"host":"h","port":80.5}]}}`, into: newTemplate,
			status: 400, wantMsg: "field upstream.nodes[0].port: want integer, got number 80.5"},
		{name: "string for boolean", contentType: js, body: `{"runtime":{"strip_path_prefix":"yes"}}`, into: newService,
			status: 400, wantMsg: "field runtime.strip_path_prefix: want boolean, got string"},
		{name: "object for map of strings", contentType: js, body: `{"labels":{"a":{"b":1}}}`, into: newTemplate,
			status: 400, wantMsg: "field labels.a: want string, got object"},
		{name: "unknown field", contentType: js, body: `{"name":"a","nmae":"b"}`, into: newTemplate,
			status: 400, wantMsg: `request body: unknown field "nmae"`},
		{name: "unknown nested field", contentType: js, body: `{"routes":[{"path":"/a"}]}`, into: newTemplate,
			status: 400, wantMsg: `field routes[0]: unknown field "path"`},
		{name: "read-only field refused", contentType: js, body: `{"plugin_configs":{}}`, into: newTemplate,
			status: 400, wantMsg: `unknown field "plugin_configs"`},
		{name: "embedded fields flattened", contentType: js, body: `{"name":"a","service_id":"s","routes":[{"paths":["/x"]}]}`,
			into: newService},
		{name: "embedded field type checked", contentType: js, body: `{"service_id":1}`, into: newService,
			status: 400, wantMsg: "field service_id: want string, got number 1"},
		{name: "plugins take any value", contentType: js, body: `{"name":"p","plugins":{"limit-count":{"count":1,"x":[true]}}}`,
			into: func() any { return new(pluginTemplateRequest) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeBody(tt.contentType, []byte(tt.body), tt.into())
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("decodeBody = %v, want no error", err)
				}
				return
			}
			var re *requestError
			if !errors.As(err, &re) {
				t.Fatalf("decodeBody = %v, want a *requestError", err)
			}
			if re.Status != tt.status || !strings.Contains(re.Message, tt.wantMsg) {
				t.Fatalf("decodeBody = %d %q, want %d containing %q", re.Status, re.Message, tt.status, tt.wantMsg)
			}
		})
	}
}

func TestDecodeBodyFillsEmbedded(t *testing.T) {
	var req serviceRequest
	body := `{"name":"orders","type":"http","service_id":"svc","routes":[{"name":"r","paths":["/a"],"methods":["GET"]}]}`
	if err := decodeBody("application/json", []byte(body), &req); err != nil {
		t.Fatal(err)
	}
	in := req.input()
	if in.Name != "orders" || in.ServiceID != "svc" || len(in.Routes) != 1 || in.Routes[0].Paths[0] != "/a" {
		t.Fatalf("input = %+v", in)
	}
}

func newTemplate() any { return new(serviceTemplateRequest) }
func newService() any  { return new(serviceRequest) }

func TestDecodeBodyChecksInsideSelfDecodingTypes(t *testing.T) {
	// models.NodeSpec has an UnmarshalJSON (weight defaults to 1) that
	// DisallowUnknownFields does not reach; the walk does.
	err := decodeBody("application/json", []byte(`{"upstream":{"nodes":[{"host":"h","port":80,"wieght":2}]}}`), newTemplate())
	var re *requestError
	if !errors.As(err, &re) || !strings.Contains(re.Message, `field upstream.nodes[0]: unknown field "wieght"`) {
		t.Fatalf("decodeBody = %v, want the unknown field inside nodes[0]", err)
	}
	var req serviceTemplateRequest
	if err := decodeBody("application/json", []byte(`{"upstream":{"nodes":[{"host":"h","port":80}]}}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.Upstream.Nodes[0].Weight != 1 {
		t.Fatalf("weight = %d, want the default 1 from NodeSpec.UnmarshalJSON", req.Upstream.Nodes[0].Weight)
	}
}
