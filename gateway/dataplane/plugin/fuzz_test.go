package plugin

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"
)

// fuzzDir resolves every key to one consumer, with its own plugins.
type fuzzDir struct{ c *Consumer }

func (d fuzzDir) ConsumerByKey(key []byte) *Consumer {
	if string(key) == "" {
		return nil
	}
	return d.c
}
func (d fuzzDir) ConsumerByName(string) *Consumer { return d.c }

// FuzzCompile: any plugins object as stored on a route, service, plugin
// config or consumer either compiles or is refused with an error (APISIX's
// schema checks); what compiles runs on any request without panicking,
// answers only real status codes, and compiling again gives the same set.
// Run: go test ./gateway/dataplane/plugin -run '^$' -fuzz FuzzCompile -fuzztime 60s
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`{"key-auth":{"header":"x-key","query":"k","hide_credentials":true,"anonymous_consumer":"anon"}}`,
		`{"consumer-restriction":{"whitelist":["a","b"],"rejected_code":401,"rejected_msg":"no"}}`,
		`{"consumer-restriction":{"type":"consumer_group_id","blacklist":["g"],"allowed_by_methods":[{"user":"a","methods":["GET"]}]}}`,
		`{"limit-count":{"count":1,"time_window":1,"key_type":"var_combination","key":"$remote_addr $http_x","show_limit_quota_header":true,"rejected_msg":"slow"}}`,
		`{"limit-count":{"count":2,"time_window":60,"key_type":"constant","key":"k","rejected_code":429}}`,
		`{"proxy-rewrite":{"regex_uri":["^/a/(.*)/(.*)","/b/$2/$1?x=$1","^/c","/d"],"host":"h.com","method":"POST","headers":{"add":{"x":"$remote_addr"},"set":{"y":"${http_y}z"},"remove":["z"]}}}`,
		`{"proxy-rewrite":{"uri":"/$arg_a/${uri}?q=1","headers":{"X-A":"1"}}}`,
		`{"key-auth":{"_meta":{"disable":true}},"prometheus":{},"http-logger":{"uri":"http://x"}}`,
		`{"nope":{}}`, `{"key-auth":[]}`, `{"limit-count":{"count":1e300,"time_window":-1}}`,
	} {
		f.Add([]byte(s), []byte(`{"limit-count":{"count":1,"time_window":1}}`), "/a/b/c", "v", "a=1&apikey=k")
	}
	f.Fuzz(func(t *testing.T, routePlugins, consumerPlugins []byte, path, header, query string) {
		var m, cm map[string]json.RawMessage
		if json.Unmarshal(routePlugins, &m) != nil {
			return
		}
		_ = json.Unmarshal(consumerPlugins, &cm)
		set, err := Compile(m, "fuzz")
		if err != nil {
			return
		}
		again, err := Compile(m, "fuzz")
		if err != nil || len(again.Names) != len(set.Names) {
			t.Fatalf("compiling twice differs: %v %v / %v", set.Names, again.Names, err)
		}
		consumer := &Consumer{Username: "app_1", GroupID: "g"}
		if cs, err := CompileConsumer(cm, "consumer:fuzz"); err == nil {
			consumer.Plugins = cs
		}
		for i := 0; i < 2; i++ {
			req := &fasthttp.Request{}
			req.Header.SetMethod("GET")
			req.SetRequestURI("/x?" + query)
			req.Header.Set("X", header)
			req.Header.Set("apikey", header)
			c := &Ctx{Req: req, RemoteAddr: "127.0.0.1", Host: "h", Path: path, RouteID: "r", Dir: fuzzDir{consumer}}
			if r := set.Run(c); r != nil {
				if r.Status < 100 || r.Status > 599 {
					t.Fatalf("reply status %d", r.Status)
				}
			}
			if c.UpstreamURI != nil {
				var u fasthttp.URI
				_ = u.Parse(nil, c.UpstreamURI)
			}
		}
	})
}
