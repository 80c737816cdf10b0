package config

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"devportal/gateway/dataplane/plugin"
	"devportal/gateway/dataplane/router"
)

// fuzzKinds are the directories a fuzzed value is written under; the last
// ones are keys this node does not read (they must change nothing).
var fuzzKinds = []string{"routes/", "services/", "upstreams/", "consumers/", "consumers/good_app/credentials/",
	"plugin_configs/", "stream_routes/", "global_rules/", "consumers/fz/credentials/"}

// goodEvents is a small working configuration: a route through a service,
// an upstream and a plugin config, guarded by key-auth and a whitelist,
// its consumer with an inline key and a credential, and a stream route.
func goodEvents() []Event {
	node := []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}
	return []Event{
		put("upstreams/up", map[string]any{"nodes": node, "type": "roundrobin"}),
		put("services/svc", map[string]any{"upstream_id": "up", "plugins": map[string]any{}}),
		put("plugin_configs/pc", map[string]any{"plugins": map[string]any{"prometheus": map[string]any{}}}),
		put("routes/good", map[string]any{"uri": "/good", "methods": []string{"GET"}, "service_id": "svc", "plugin_config_id": "pc",
			"plugins": map[string]any{"key-auth": map[string]any{}, "consumer-restriction": map[string]any{"whitelist": []string{"good_app"}}}}),
		put("consumers/good_app", map[string]any{"username": "good_app", "plugins": map[string]any{"key-auth": map[string]any{"key": "good-key"}}}),
		put("consumers/good_app/credentials/c1", map[string]any{"id": "c1", "plugins": map[string]any{"key-auth": map[string]any{"key": "cred-key"}}}),
		put("stream_routes/s1", map[string]any{"server_port": 9100, "upstream_id": "up"}),
	}
}

// padEvents are enough consumers for a full load to decode them in parallel.
var padEvents = func() []Event {
	out := make([]Event, parallelMin)
	for i := range out {
		u := "pad" + strconv.Itoa(i)
		out[i] = put("consumers/"+u, map[string]any{"username": u, "plugins": map[string]any{"key-auth": map[string]any{"key": "padkey-" + u}}})
	}
	return out
}()

// FuzzApply: any bytes stored as the value of any resource key are either
// loaded or logged and skipped; Apply never panics, the known-good
// configuration next to it keeps working (its route matches and runs, its
// keys resolve), the result can serve requests, and deleting the key again
// leaves what was there before. Both the full load (one batch from an
// empty snapshot) and an incremental change are checked.
// Run: go test ./gateway/dataplane/config -run '^$' -fuzz FuzzApply -fuzztime 60s
func FuzzApply(f *testing.F) {
	f.Add(uint8(0), "1", []byte(`{"uri":"/good","priority":10,"upstream":{"nodes":{"127.0.0.1:1":1}}}`))
	f.Add(uint8(0), "2", []byte(`{"uris":["/a/*","*"],"hosts":["*.x.com","Y.com"],"vars":[["arg_a","~~","^b"]],"remote_addrs":["10.0.0.0/8"],"service_id":"svc"}`))
	f.Add(uint8(0), "3", []byte(`{"uri":"/r","plugins":{"proxy-rewrite":{"regex_uri":["^/r(.*)","/x$1"],"headers":{"set":{"a":"$remote_addr"}}},"limit-count":{"count":1,"time_window":1}},"upstream_id":"up"}`))
	f.Add(uint8(1), "svc", []byte(`{"upstream":{"type":"chash","hash_on":"header","key":"x","nodes":[{"host":"h","port":1,"weight":2}]}}`))
	f.Add(uint8(2), "up", []byte(`{"nodes":[{"host":"","port":1,"weight":1}]}`))
	f.Add(uint8(3), "a", []byte(`{"username":"a","plugins":{"key-auth":{"key":"good-key"},"limit-count":{"count":1,"time_window":1}}}`))
	f.Add(uint8(4), "c2", []byte(`{"plugins":{"key-auth":{"key":5}}}`))
	f.Add(uint8(5), "pc", []byte(`{"plugins":{"ip-restriction":{}}}`))
	f.Add(uint8(6), "s", []byte(`{"server_port":9101,"remote_addr":"127.0.0.1","service_id":"svc"}`))
	f.Add(uint8(7), "g", []byte(`{"plugins":{}}`))
	f.Add(uint8(8), "c", []byte(`{"plugins":{"key-auth":{"key":"x"}}}`))
	f.Add(uint8(0), "x", []byte(`[]`))
	f.Add(uint8(0), "x", []byte(`null`))
	f.Fuzz(func(t *testing.T, kind uint8, id string, value []byte) {
		kr := keyring(t)
		good := goodEvents()
		base := Apply(emptySnapshot(), good, prefix, kr, quiet)
		checkGood(t, "base", base)
		dir := fuzzKinds[int(kind)%len(fuzzKinds)]
		ev := Event{Key: prefix + "/" + dir + "fz" + id, Value: value}

		full := Apply(emptySnapshot(), append(append([]Event{}, good...), ev), prefix, kr, quiet)
		checkGood(t, "full load", full)
		use(t, full, "fz"+id)

		// A full load large enough to decode consumers in parallel
		// (predecode) reads the fuzzed consumer as the sequential one does.
		if dir == "consumers/" {
			big := Apply(emptySnapshot(), append(append(append([]Event{}, padEvents...), good...), ev), prefix, kr, quiet)
			checkGood(t, "parallel full load", big)
			a, b := full.ConsumerByName("fz"+id), big.ConsumerByName("fz"+id)
			if (a == nil) != (b == nil) || (a != nil && (a.Username != b.Username || a.CustomID != b.CustomID || a.GroupID != b.GroupID)) {
				t.Fatalf("consumer fz%s: sequential load %+v, parallel load %+v", id, a, b)
			}
			if got, want := big.Counts()["consumers"], full.Counts()["consumers"]+len(padEvents); got != want {
				t.Fatalf("parallel load has %d consumers, want %d", got, want)
			}
		}

		inc := Apply(base, []Event{ev}, prefix, kr, quiet)
		checkGood(t, "incremental", inc)
		use(t, inc, "fz"+id)
		checkGood(t, "base after change", base)

		// Deleting the key again gives back the base configuration.
		back := Apply(inc, []Event{{Key: ev.Key, Delete: true}}, prefix, kr, quiet)
		checkGood(t, "after delete", back)
		if got, want := back.Counts(), base.Counts(); !sameCounts(got, want) {
			t.Fatalf("after put and delete of %s: counts %v, want %v", ev.Key, got, want)
		}

		// The value overwrites one of the good objects, then the good
		// value comes back: everything depending on it recovers.
		orig := good[int(kind)%len(good)]
		broken := Apply(base, []Event{{Key: orig.Key, Value: value}}, prefix, kr, quiet)
		use(t, broken, "good")
		restored := Apply(broken, []Event{orig}, prefix, kr, quiet)
		checkGood(t, "restored "+orig.Key, restored)
		if got, want := restored.Counts(), base.Counts(); !sameCounts(got, want) {
			t.Fatalf("after breaking and restoring %s: counts %v, want %v", orig.Key, got, want)
		}
	})
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkGood asserts the known-good configuration still works in s.
func checkGood(t *testing.T, stage string, s *Snapshot) {
	t.Helper()
	r, ok := s.Route("good")
	if !ok {
		t.Fatalf("%s: route good is gone", stage)
	}
	if r.Reject != 0 || r.Upstream == nil || r.Status != 0 || len(r.Upstream.Nodes) != 1 ||
		r.Plugins == nil || r.Plugins.KeyAuth == nil || r.Plugins.Restriction == nil {
		t.Fatalf("%s: route good changed: %+v", stage, r)
	}
	for _, key := range []string{"good-key", "cred-key"} {
		if c := s.ConsumerByKey([]byte(key)); c == nil || c.Username != "good_app" {
			t.Fatalf("%s: key %s resolves to %+v", stage, key, c)
		}
	}
	m := s.Router.Match(&router.Request{Method: "GET", Path: "/good", RemoteAddr: netip.MustParseAddr("127.0.0.1")})
	if m == nil {
		t.Fatalf("%s: /good matches nothing", stage)
	}
	if m.ID == "good" {
		c := runCtx(s, m.Value, "/good", "good-key")
		if rep := m.Value.Plugins.Run(c); rep != nil {
			t.Fatalf("%s: /good with its key answered %d %s", stage, rep.Status, rep.Body)
		}
		if c.Consumer == nil || c.Consumer.Username != "good_app" {
			t.Fatalf("%s: /good ran as %+v", stage, c.Consumer)
		}
	}
	found := false
	for _, sr := range s.StreamRoutes() {
		if sr.ID == "s1" {
			found = sr.Upstream != nil && sr.ServerPort == 9100
		}
	}
	if !found {
		t.Fatalf("%s: stream route s1 lost", stage)
	}
}

// streamVars is what a stream connection resolves chash keys with.
type streamVars struct{}

func (streamVars) Var(name string) string {
	if name == "remote_addr" {
		return "127.0.0.1"
	}
	return ""
}

func runCtx(s *Snapshot, r *Route, path, key string) *plugin.Ctx {
	req := &fasthttp.Request{}
	req.SetRequestURI(path + "?a=b")
	req.Header.SetMethod("GET")
	req.Header.Set("apikey", key)
	req.Header.Set("X-Api-Key", key)
	req.Header.SetCookie("c", "v")
	return &plugin.Ctx{Req: req, RemoteAddr: "127.0.0.1", Host: "x.com", Path: path, RouteID: r.ID, ServiceID: r.ServiceID, Dir: s}
}

// use serves requests from s against whatever the fuzzed key produced.
func use(t *testing.T, s *Snapshot, id string) {
	t.Helper()
	_ = s.Counts()
	_ = s.ConsumerByName(id)
	_ = s.ConsumerByName("good_app")
	for _, sr := range s.StreamRoutes() {
		if sr.Upstream != nil && sr.Upstream.Picker != nil {
			sr.Upstream.Picker.Pick(streamVars{}, nil)
		}
	}
	rt, ok := s.Router.Get(id)
	if !ok {
		return
	}
	for _, p := range rt.Paths {
		path := strings.ReplaceAll(p, "*", "x")
		if path == "" || path[0] != '/' {
			path = "/" + path
		}
		host := ""
		if len(rt.Hosts) > 0 {
			host = strings.ReplaceAll(rt.Hosts[0], "*", "a")
		}
		req := &router.Request{Method: "GET", Host: host, Path: path, RemoteAddr: netip.MustParseAddr("10.1.2.3"),
			Var: func(string) string { return "v" }}
		a, b := s.Router.Match(req), s.Router.Match(req)
		if a != b {
			t.Fatalf("match of %s %s is not deterministic", host, path)
		}
		r := rt.Value
		if r == nil || r.Plugins == nil {
			t.Fatalf("route %s compiled without a value or plugin set", id)
		}
		c := runCtx(s, r, path, "good-key")
		_ = r.Plugins.Run(c)
		if r.Upstream != nil && r.Upstream.Picker != nil {
			r.Upstream.Picker.Pick(c, nil)
		}
	}
}

// FuzzBigRouteDelta: a big whitelist route's value with bytes cut and
// inserted anywhere is read as a change of the previous value only when
// that gives what reading it whole gives, bounds included, and the
// snapshot it makes is the one loading it from scratch makes.
// Run: go test ./gateway/dataplane/config -run '^$' -fuzz FuzzBigRouteDelta -fuzztime 60s
func FuzzBigRouteDelta(f *testing.F) {
	base := newBigDoc(6100).value()
	at := func(s string) uint32 { return uint32(bytes.Index(base, []byte(s))) }
	f.Add(at(`"app_3000"`), uint8(0), []byte(`"new",`))
	f.Add(at(`"app_3000"`)+1, uint8(9), []byte(`x`))
	f.Add(at(`"app_0"`), uint8(8), []byte{})
	f.Add(at(`"app_6099"`)+10, uint8(0), []byte(`,"app_x"`))
	f.Add(at(`"app_6099"`)-1, uint8(11), []byte{})
	f.Add(at(`"update_time":`)+23, uint8(1), []byte(`7`))
	f.Add(at(`"app_6099"`)+10, uint8(45), []byte(`,"a"]},"key-auth":{"hide_credentials":true},"limit-count":{"count":1000,"key":"consumer_name","key_type":"var","policy":"local","time_window":60}},"service_id":"s1","update_time":17`))
	f.Add(at(`"count":1000`)+8, uint8(4), []byte(`5`))
	f.Add(at(`"app_17"`), uint8(8), []byte(`"a\u0041",`))
	f.Add(at(`"whitelist"`)+12, uint8(255), []byte(`]`))
	kr := keyring(f)
	svc := put("services/s1", map[string]any{"id": "s1", "upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}}})
	key := prefix + "/routes/big"
	s0 := Apply(emptySnapshot(), []Event{svc, {Key: key, Value: base}}, prefix, kr, quiet)
	prev, _ := s0.bigRoutes.Get("big")
	f.Fuzz(func(t *testing.T, at uint32, cut uint8, ins []byte) {
		i := int(at) % (len(base) + 1)
		v := append(append(append([]byte{}, base[:i]...), ins...), base[min(len(base), i+int(cut)):]...)
		if n := prev.next(v); n != nil {
			if full := decodeRouteFast(v); !reflect.DeepEqual(n, full) {
				t.Fatalf("read as a change %+v, whole %+v", n, full)
			}
		}
		names := []string{"new", "x", "a", "aA", "app_x", "app_0", "app_3000", "app_6099"}
		var r struct {
			Plugins struct {
				CR struct {
					Whitelist []string `json:"whitelist"`
				} `json:"consumer-restriction"`
			} `json:"plugins"`
		}
		if json.Unmarshal(v, &r) == nil {
			names = append(names, r.Plugins.CR.Whitelist...)
		}
		ev := Event{Key: key, Value: v}
		sameRoute(t, "fuzzed", Apply(s0, []Event{ev}, prefix, kr, quiet), Apply(emptySnapshot(), []Event{svc, ev}, prefix, kr, quiet), names)
	})
}
