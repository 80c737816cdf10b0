package plugin

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The one-pass decode gives what encoding/json gives, or gives up.
func TestRestrictionFastDecodeMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"type":"consumer_name","whitelist":["app_1","app_2","devportal:nobody"]}`,
		` { "whitelist" : [ "a" , "a" ] , "rejected_code" : 429 , "rejected_msg" : "no" } `,
		`{"blacklist":["x"],"type":"route_id"}`,
		`{"whitelist":[]}`, `{}`, `{"rejected_code":-5,"whitelist":["a"]}`,
		// Outside the fast path: encoding/json decides.
		`{"whitelist":["a\u0062"]}`, `{"Whitelist":["a"]}`, `{"whitelist":["a"],"whitelist":["b"]}`,
		`{"whitelist":["a"],"allowed_by_methods":[{"user":"a","methods":["GET"]}]}`, `{"rejected_code":4e2,"whitelist":["a"]}`,
		`{"whitelist":null}`, `{"type":null,"whitelist":["a"]}`, `{"whitelist":["a"]} x`, `[]`, `{"whitelist":["é"]}`,
		`{"whitelist":["a"],"_meta":{"disable":false}}`, `{"rejected_code":"403","whitelist":["a"]}`,
	} {
		fast := &Restriction{Type: "consumer_name", RejectedCode: 403}
		hasW, hasB, ok := fast.decodeFast(json.RawMessage(in))
		slow, sw, sb, sm, err := decodeRestriction(json.RawMessage(in))
		if !ok {
			continue
		}
		fast.Whitelist = fast.whitelist()
		fast.src, fast.whiteIn, fast.whiteN = "", [2]int{}, 0 // what splice needs
		if err != nil || hasW != sw || hasB != sb || sm || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: fast %+v %v %v, encoding/json %+v %v %v %v (%v)", in, fast, hasW, hasB, slow, sw, sb, sm, err)
		}
	}
}

func TestMayDisable(t *testing.T) {
	for in, want := range map[string]bool{
		`{"whitelist":["app_1"]}`: false, `{"_meta":{"disable":true}}`: true, `{"_META":{}}`: true,
		`{"\u005fmeta":{}}`: true, `{"a_meta":1}`: false, `{"x":"_met"}`: false,
	} {
		if got := mayDisable(json.RawMessage(in)); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
}

func names(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("app_%d", r.IntN(n*2))
	}
	return out
}

// A set derived from the previous list's set holds exactly the new list.
func TestDeriveMatchesNewSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	list := names(r, 3000)
	set := newNameSet(list)
	for step := 0; step < 200; step++ {
		next := append([]string(nil), list...)
		switch i := r.IntN(len(next)); step % 5 {
		case 0: // add at the end
			next = append(next, fmt.Sprintf("new_%d", step))
		case 1: // remove one in place
			next = append(next[:i], next[i+1:]...)
		case 2: // replace one
			next[i] = fmt.Sprintf("rep_%d", step)
		case 3: // a name already present, again
			next = append(next, next[i])
		case 4: // many changes: rebuilt
			for k := 0; k < 1500; k++ {
				next[r.IntN(len(next))] = fmt.Sprintf("many_%d_%d", step, k)
			}
		}
		got := derive(set, list, next)
		want := newNameSet(next)
		for _, n := range append(append([]string(nil), list...), next...) {
			if got.has(n) != want.has(n) {
				t.Fatalf("step %d: %q: derived %v, built %v", step, n, got.has(n), want.has(n))
			}
		}
		if set.has("never") || got.has("never") {
			t.Fatal("unknown name found")
		}
		list, set = next, got
	}
}

// A restriction compiled from its predecessor lets the same consumers through.
func TestRestrictionFromPrevious(t *testing.T) {
	list := make([]string, 2000)
	for i := range list {
		list[i] = fmt.Sprintf("app_%d", i)
	}
	raw := func(l []string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"whitelist": l})
		return b
	}
	prev, err := NewRestriction(raw(list))
	if err != nil {
		t.Fatal(err)
	}
	next, err := newRestriction(raw(append(list[1:], "app_new")), prev)
	if err != nil {
		t.Fatal(err)
	}
	if next.Allows("app_0") || !next.Allows("app_1") || !next.Allows("app_new") || !prev.Allows("app_0") || prev.Allows("app_new") {
		t.Fatal("derived whitelist wrong, or the previous one changed")
	}
}

// Names whose hashes collide in a sharded set are kept apart and counted:
// the hash is forced here, as a real collision takes ~2^32 names to find.
func TestNameSetClash(t *testing.T) {
	list := make([]string, bigSet)
	for i := range list {
		list[i] = fmt.Sprintf("app_%d", i)
	}
	s := newNameSet(list)
	// "intruder" takes the slot of app_7's hash, as a collision would.
	h := hashOf("app_7")
	if s.shards[h&(setShards-1)].add(h, "intruder", 1) {
		t.Fatal("a second name took a hash already held")
	}
	s.clash = map[string]int32{"intruder": 2, "": 1}
	for _, n := range []string{"app_7", "intruder", "", "app_0", fmt.Sprintf("app_%d", bigSet-1)} {
		if !s.has(n) {
			t.Errorf("%q missing", n)
		}
	}
	if s.has("app_x") {
		t.Error("a name never added is found")
	}
	next := s.change([]string{"intruder", "app_7"}, []string{"app_new", ""})
	for n, want := range map[string]bool{"intruder": true, "app_7": false, "app_new": true, "": true} {
		if next.has(n) != want {
			t.Errorf("after change: %q: %v", n, !want)
		}
	}
	next = next.change([]string{"intruder"}, nil)
	if next.has("intruder") || !s.has("intruder") || !s.has("app_7") {
		t.Error("counts wrong, or the old set changed")
	}
}

// Empty and long names, and repeated ones, in a sharded set.
func TestNameSetOddNames(t *testing.T) {
	long := strings.Repeat("x", 70000)
	list := names(rand.New(rand.NewPCG(3, 4)), bigSet)
	list = append(list, "", long, "", "dup", "dup")
	s := newNameSet(list)
	for _, n := range []string{"", long, "dup"} {
		if !s.has(n) {
			t.Errorf("%.10q missing", n)
		}
	}
	s2 := s.change([]string{"", "dup", long}, nil)
	if !s2.has("") || !s2.has("dup") || s2.has(long) {
		t.Error("one occurrence removed must keep a name listed twice, and drop one listed once")
	}
}
