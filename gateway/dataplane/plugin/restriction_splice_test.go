package plugin

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// sameRestriction fails unless got, spliced from a previous restriction,
// is want, compiled from scratch.
func sameRestriction(t *testing.T, what string, got, want *Restriction, names []string) {
	t.Helper()
	if got.Type != want.Type || got.RejectedCode != want.RejectedCode || !reflect.DeepEqual(got.RejectedMsg, want.RejectedMsg) ||
		!reflect.DeepEqual(got.Blacklist, want.Blacklist) || !reflect.DeepEqual(got.whitelist(), want.whitelist()) ||
		!reflect.DeepEqual(got.reject, want.reject) || !reflect.DeepEqual(got.missing, want.missing) {
		t.Fatalf("%s: spliced %+v, compiled %+v", what, got, want)
	}
	for _, n := range names {
		if got.Allows(n) != want.Allows(n) {
			t.Fatalf("%s: %q allowed %v, compiled %v", what, n, got.Allows(n), want.Allows(n))
		}
	}
}

// Whitelist changes spliced into the previous restriction give what
// compiling the new configuration gives; anything else is not spliced.
func TestRestrictionSpliceMatchesCompile(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	list := names(r, 3000)
	conf := func(l []string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"type": "consumer_name", "whitelist": l, "rejected_code": 429, "rejected_msg": "no"})
		return b
	}
	prev, err := newRestriction(conf(list), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{"a\\u0041": true, "aA": true, "é": true}
	for step := 0; step < 300; step++ {
		next := append([]string(nil), list...)
		fresh := fmt.Sprintf("new_%d", step)
		raw := json.RawMessage(nil)
		spliced := true
		switch i := r.IntN(len(next)); step % 12 {
		case 0:
			next = append([]string{fresh}, next...)
		case 1:
			next = append(next[:i], append([]string{fresh}, next[i:]...)...)
		case 2:
			next = append(next, fresh)
		case 3:
			next = append(next[:i], next[i+1:]...)
		case 4:
			next[i] = fresh
		case 5:
			next = append(next, next[i]) // twice
		case 6:
			next = next[:len(next)-1]
		case 7:
			for k := 0; k < 5; k++ {
				next[r.IntN(len(next))] = fmt.Sprintf("%s_%d", fresh, k)
			}
		case 8:
			raw = json.RawMessage(strings.Replace(string(conf(next)), `"`+next[i]+`"`, `"a\u0041"`, 1))
			spliced = false
		case 9:
			raw = json.RawMessage(strings.Replace(string(conf(next)), `"`+next[i]+`",`, `"x",,`, 1))
			spliced = false
		case 10:
			raw = json.RawMessage(strings.Replace(string(conf(next)), `"rejected_code":429`, `"rejected_code":403`, 1))
			spliced = false
		case 11:
			raw = json.RawMessage(strings.Replace(string(conf(next)), `"`+next[i]+`"`, `"é"`, 1))
			spliced = false
		}
		if raw == nil {
			raw = conf(next)
		}
		for _, n := range next {
			all[n] = true
		}
		check := make([]string, 0, len(all))
		for n := range all {
			check = append(check, n)
		}
		got := prev.splice(raw)
		want, err := newRestriction(raw, nil)
		if (got != nil) != spliced {
			t.Fatalf("step %d: spliced %v, want %v", step, got != nil, spliced)
		}
		if got != nil {
			if err != nil {
				t.Fatalf("step %d: spliced a configuration that does not compile: %v", step, err)
			}
			sameRestriction(t, fmt.Sprintf("step %d", step), got, want, check)
			if strings.Contains(got.src, prev.src) || got.whiteN != len(next) || len(got.whitelist()) != len(next) {
				t.Fatalf("step %d: spliced list of %d names", step, got.whiteN)
			}
		}
		if got != nil { // hand-edited ones are not built on
			prev, list = got, next
		}
	}
}

func TestRestrictionSpliceEdges(t *testing.T) {
	base := `{"type":"consumer_name","whitelist":["a","b","c","b"]}`
	prev, err := newRestriction(json.RawMessage(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	for in, spliced := range map[string]bool{
		`{"type":"consumer_name","whitelist":["a","c","b"]}`:           true, // one "b" left
		`{"type":"consumer_name","whitelist":["a","b","c","b","d"]}`:   true,
		`{"type":"consumer_name","whitelist":["b"]}`:                   true,
		`{"type":"consumer_name","whitelist":[]}`:                      false,
		`{"type":"consumer_name","whitelist":["a","b","c","b",]}`:      false,
		`{"type":"consumer_name","whitelist":["a","b" ,"c","b"]}`:      true,
		`{"type":"consumer_name","whitelist":["a","b"],"x":["c","b"]}`: false,
		`{"type":"consumer_name","whitelist":["a",["b"],"c","b"]}`:     false,
		`{"type":"route_id","whitelist":["a","b","c","b"]}`:            false,
		`{"type":"consumer_name","whitelist":["a","b","c","b"]} `:      false,
		base: true,
	} {
		got := prev.splice(json.RawMessage(in))
		want, err := newRestriction(json.RawMessage(in), nil)
		if (got != nil) != spliced || (got != nil && err != nil) {
			t.Errorf("%s: spliced %v, want %v (compiled: %v)", in, got != nil, spliced, err)
			continue
		}
		if got != nil {
			sameRestriction(t, in, got, want, []string{"a", "b", "c", "d"})
		}
	}
}
