package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestCompileRejectsWhatAPISIXRejects(t *testing.T) {
	cases := []struct {
		name, plugins string
		ok            bool
	}{
		{"key-auth defaults", `{"key-auth":{}}`, true},
		{"key-auth bad type", `{"key-auth":{"header":5}}`, false},
		{"key-auth not an object", `{"key-auth":"x"}`, false},
		{"key-auth bad realm", `{"key-auth":{"realm":"a\"b"}}`, false},
		{"restriction needs a list", `{"consumer-restriction":{}}`, false},
		{"restriction empty whitelist", `{"consumer-restriction":{"whitelist":[]}}`, false},
		{"restriction bad type", `{"consumer-restriction":{"type":"ip","whitelist":["a"]}}`, false},
		{"restriction rejected_code < 200", `{"consumer-restriction":{"whitelist":["a"],"rejected_code":100}}`, false},
		{"restriction ok", `{"consumer-restriction":{"whitelist":["a"],"rejected_code":401}}`, true},
		{"limit-count ok", `{"limit-count":{"count":1,"time_window":1}}`, true},
		{"limit-count zero count", `{"limit-count":{"count":0,"time_window":1}}`, false},
		{"limit-count missing window", `{"limit-count":{"count":1}}`, false},
		{"limit-count bad key_type", `{"limit-count":{"count":1,"time_window":1,"key_type":"x"}}`, false},
		{"limit-count code 600", `{"limit-count":{"count":1,"time_window":1,"rejected_code":600}}`, false},
		{"limit-count redis unsupported", `{"limit-count":{"count":1,"time_window":1,"policy":"redis"}}`, false},
		{"proxy-rewrite empty", `{"proxy-rewrite":{}}`, false},
		{"proxy-rewrite bad uri", `{"proxy-rewrite":{"uri":"x"}}`, false},
		{"proxy-rewrite odd regex_uri", `{"proxy-rewrite":{"regex_uri":["^/a","/b","^/c"]}}`, false},
		{"proxy-rewrite bad host", `{"proxy-rewrite":{"host":"a b"}}`, false},
		{"proxy-rewrite bad method", `{"proxy-rewrite":{"method":"FETCH"}}`, false},
		{"proxy-rewrite header with colon", `{"proxy-rewrite":{"headers":{"set":{"a:b":"c"}}}}`, false},
		{"proxy-rewrite ok", `{"proxy-rewrite":{"uri":"/x","headers":{"add":{"a":["1",2]},"remove":["b"]}}}`, true},
		{"unknown plugin", `{"ip-restriction":{}}`, false},
		{"prometheus is accepted", `{"prometheus":{}}`, true},
		{"disabled unknown config still needs a known name", `{"key-auth":{"_meta":{"disable":true}}}`, true},
	}
	for _, c := range cases {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.plugins), &m); err != nil {
			t.Fatal(err)
		}
		_, err := Compile(m, "route:1")
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
		}
	}
	_, err := Compile(map[string]json.RawMessage{"nope": json.RawMessage(`{}`)}, "r")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown plugin error %v", err)
	}
}

func TestMergePrecedence(t *testing.T) {
	svc := map[string]json.RawMessage{"a": json.RawMessage(`"svc"`), "b": json.RawMessage(`"svc"`), "c": json.RawMessage(`"svc"`)}
	pc := map[string]json.RawMessage{"b": json.RawMessage(`"pc"`), "c": json.RawMessage(`"pc"`)}
	route := map[string]json.RawMessage{"c": json.RawMessage(`"route"`)}
	got := Merge(svc, pc, route)
	if string(got["a"]) != `"svc"` || string(got["b"]) != `"pc"` || string(got["c"]) != `"route"` {
		t.Fatalf("merge %v", got)
	}
}

func TestCountersFixedWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewCounters(func() time.Time { return now })
	rem, reset, ok := c.Incoming("s", "k", 2, time.Minute, 1)
	if !ok || rem != 1 || reset != time.Minute {
		t.Fatalf("first: %d %v %v", rem, reset, ok)
	}
	now = now.Add(10 * time.Second)
	rem, reset, ok = c.Incoming("s", "k", 2, time.Minute, 1)
	if !ok || rem != 0 || reset != 50*time.Second {
		t.Fatalf("second: %d %v %v", rem, reset, ok)
	}
	if _, _, ok = c.Incoming("s", "k", 2, time.Minute, 1); ok {
		t.Fatal("third allowed")
	}
	if _, _, ok = c.Incoming("s", "other", 2, time.Minute, 1); !ok {
		t.Fatal("other key limited")
	}
	if _, _, ok = c.Incoming("s2", "k", 2, time.Minute, 1); !ok {
		t.Fatal("other scope limited")
	}
	now = now.Add(51 * time.Second) // the window ends
	if rem, _, ok = c.Incoming("s", "k", 2, time.Minute, 1); !ok || rem != 1 {
		t.Fatalf("new window: %d %v", rem, ok)
	}
	now = now.Add(2 * time.Minute)
	c.Sweep()
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n != 0 {
		t.Fatalf("%d windows left after sweep", n)
	}
}

func TestResetFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		60 * time.Second: "60", 59876 * time.Millisecond: "59.87", 0: "0", -time.Second: "0",
		1500 * time.Millisecond: "1.5", 70 * time.Millisecond: "0.07", 100 * time.Millisecond: "0.1",
		9 * time.Millisecond: "0", 86400*time.Second + 999*time.Millisecond: "86400.99",
	} {
		if got := formatReset(d); got != want {
			t.Errorf("formatReset(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRegexTemplate(t *testing.T) {
	for in, want := range map[string]string{"/$1": "/${1}", "/$1_$2": "/${1}_${2}", "$$1": "$$1", "/${1}x": "/${1}x", "/a": "/a"} {
		if got := goTemplate(in); got != want {
			t.Errorf("goTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorPages(t *testing.T) {
	for code, want := range map[int]string{502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"} {
		if !strings.Contains(string(ErrorPage(code)), "<center><h1>"+want+"</h1></center>") {
			t.Errorf("%d page %q", code, ErrorPage(code))
		}
	}
	if r := JSONReply(401, "message", "Missing API key in request"); string(r.Body) != `{"message":"Missing API key in request"}`+"\n" {
		t.Fatalf("json reply %q", r.Body)
	}
}

// The literal-prefix shortcut of regex_uri rewrites as the regexp does.
func TestPrefixCaptureMatchesRegexp(t *testing.T) {
	for expr, fast := range map[string]bool{
		`^/auth/(.*)`: true, `^/a(.*)`: true, `^/é/(.*)`: true,
		`^/auth/(.*)$`: false, `/auth/(.*)`: false, `^/auth/(.+)`: false, `(?i)^/auth/(.*)`: false,
		`^/auth/(.*)/(.*)`: false, `^/auth/(?:.*)`: false, `^(.*)`: false, `^/a(?s:.*)`: false, `^/a(.*?)`: false,
	} {
		if got := prefixCapture(expr) != nil; got != fast {
			t.Errorf("%s: shortcut %v, want %v", expr, got, fast)
		}
		conf, _ := json.Marshal(map[string]any{"regex_uri": []string{expr, "/x/$1"}})
		withShortcut, err := NewProxyRewrite(conf)
		if err != nil {
			t.Fatal(expr, err)
		}
		regexOnly := *withShortcut
		regexOnly.prefixes = []*string{nil}
		for _, path := range []string{"/auth/", "/auth/a/b", "/auth", "/a", "/x/auth/a", "/auth/a\nb", "/é/x", "/AUTH/x", "/a\xff/x", "", "/auth/a?b"} {
			var got [2]string
			for k, p := range []*ProxyRewrite{withShortcut, &regexOnly} {
				c := &Ctx{Req: &fasthttp.Request{}, Path: path}
				p.Rewrite(c)
				got[k] = fmt.Sprintf("%q %q", c.UpstreamURI, c.captures)
			}
			if got[0] != got[1] {
				t.Errorf("%s on %q: %s with the shortcut, %s with the regexp", expr, path, got[0], got[1])
			}
		}
	}
}

// BenchmarkRegexURIPrefix is the throughput benchmark's proxy-rewrite
// (regex_uri ^/auth/(.*) → /$1), with the shortcut and with the regexp.
func BenchmarkRegexURIPrefix(b *testing.B) {
	p, err := NewProxyRewrite(json.RawMessage(`{"regex_uri":["^/auth/(.*)","/$1"]}`))
	if err != nil {
		b.Fatal(err)
	}
	regexOnly := *p
	regexOnly.prefixes = []*string{nil}
	for name, p := range map[string]*ProxyRewrite{"shortcut": p, "regexp": &regexOnly} {
		b.Run(name, func(b *testing.B) {
			c := &Ctx{Req: &fasthttp.Request{}}
			b.ReportAllocs()
			for b.Loop() {
				c.Path, c.UpstreamURI = "/auth/x", c.UpstreamURI[:0]
				p.Rewrite(c)
			}
		})
	}
}
