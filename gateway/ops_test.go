package gateway

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// A whitelist add of many names gives the value the same names added one
// op at a time give: in order, each once, the placeholder gone.
func TestWhitelistAddOfManyNamesMatchesOneAtATime(t *testing.T) {
	route := []byte(`{"id":"r","uri":"/a","plugins":{"key-auth":{},"consumer-restriction":{"type":"consumer_name","whitelist":["` + NobodyConsumer + `"]}}}`)
	names := []string{"app_3", "app_1", "app_3", "app_2"}
	var one []Op
	for _, n := range names {
		one = append(one, Op{Kind: OpWhitelistAdd, RouteID: "r", Username: n})
	}
	bulk := []Op{{Kind: OpWhitelistAdd, RouteID: "r", Usernames: names}}
	a, err := applyOps(route, one, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := applyOps(route, bulk, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("one at a time:\n%s\nall at once:\n%s", a, b)
	}
	if got, want := routeWhitelist(t, b), []string{"app_3", "app_1", "app_2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("whitelist %v, want %v", got, want)
	}
}

// routeWhitelist reads the consumer-restriction whitelist of a stored route.
func routeWhitelist(t *testing.T, value []byte) []string {
	t.Helper()
	var route struct {
		Plugins struct {
			CR struct {
				Whitelist []string `json:"whitelist"`
			} `json:"consumer-restriction"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(value, &route); err != nil {
		t.Fatalf("route %s: %v", value, err)
	}
	return route.Plugins.CR.Whitelist
}

func TestWhitelistAddValidatesEveryName(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		want string // in the error; empty: valid
	}{
		{Op{Kind: OpWhitelistAdd, RouteID: "r1", Username: "app_1"}, ""},
		{Op{Kind: OpWhitelistAdd, RouteID: "r1", Usernames: []string{"app_1", "app_2"}}, ""},
		{Op{Kind: OpWhitelistAdd, RouteID: "r1"}, "username"},
		{Op{Kind: OpWhitelistAdd, RouteID: "r1", Usernames: []string{"app_1", "not valid"}}, "usernames"},
		{Op{Kind: OpWhitelistAdd, RouteID: "r1", Username: "bad name"}, "username"},
		{Op{Kind: OpWhitelistRemove, RouteID: "r1"}, "username"},
	} {
		err := tc.op.validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.op, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one about %s", tc.op, err, tc.want)
		}
	}
}

func TestDifferencesIgnoresOnlyTopLevelTimes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		want, have string
		fields     []string
	}{
		{"times only", `{"create_time":1,"id":"a","update_time":2}`, `{"create_time":5,"id":"a","update_time":9}`, nil},
		{"times missing on one side", `{"id":"a","update_time":2}`, `{"create_time":5,"id":"a"}`, nil},
		{"a nested update_time is compared",
			`{"id":"a","plugins":{"p":{"update_time":1}},"update_time":2}`,
			`{"id":"a","plugins":{"p":{"update_time":3}},"update_time":2}`, []string{"plugins.p"}},
		{"time-like text inside a string is compared",
			`{"desc":"x\",\"update_time\":1","id":"a"}`,
			`{"desc":"x\",\"update_time\":2","id":"a"}`, []string{"desc"}},
		{"braces and escapes in strings", `{"a":"}{\\\"","b":[1,{"c":"]"}],"update_time":1}`, `{"a":"}{\\\"","b":[1,{"c":"]"}],"update_time":7}`, nil},
		{"other layout, same value", `{"id":"a","uri":"/x"}`, `{ "uri": "/x", "id": "a" }`, nil},
		{"whitelist order", `{"plugins":{"consumer-restriction":{"whitelist":["a","b"]}}}`, `{"plugins":{"consumer-restriction":{"whitelist":["b","a"]}}}`, nil},
		{"a field differs", `{"id":"a","uri":"/x","update_time":1}`, `{"id":"a","uri":"/y","update_time":1}`, []string{"uri"}},
		{"not JSON", `{"id":"a"}`, `{"id":`, []string{"value"}},
	} {
		got := differences([]byte(tc.want), []byte(tc.have))
		if !reflect.DeepEqual(got, tc.fields) {
			t.Errorf("%s: differences = %v, want %v", tc.name, got, tc.fields)
		}
	}
}

func TestStripTimesKeepsEverythingElse(t *testing.T) {
	in := `{"a":"}{\\\"","create_time":12,"b":[1,{"update_time":"]"}],"update_time":7,"z":null}`
	got, ok := stripTimes([]byte(in))
	if want := `{"a":"}{\\\"","b":[1,{"update_time":"]"}],"z":null}`; !ok || string(got) != want {
		t.Fatalf("got %s, %v\nwant %s", got, ok, want)
	}
	for _, bad := range []string{``, `[]`, `{"a":1`, `{"a"}`, `{"a":"x}`, `{"a":1}x`} {
		if _, ok := stripTimes([]byte(bad)); ok {
			t.Errorf("%q read as an object", bad)
		}
	}
}
