package jsonscan

import (
	"encoding/json"
	"testing"
)

var samples = []string{
	`{}`, `[]`, `""`, `"a b-c_d:e"`, `0`, `-0`, `12`, `-1.5e+10`, `1E3`, `0.25`, `true`, `false`, `null`,
	` { "a" : [ "x" , "y" ] , "b" : { "c" : null } } `, `{"whitelist":["app_1","app_2"],"type":"consumer_name"}`,
	`[[[]]]`, `[1,"a",{"b":[true,false]}]`,
	// Invalid, or outside the fast path.
	``, `{`, `[`, `"`, `"a`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `01`, `-`, `1.`, `.5`, `1e`, `+1`,
	`tru`, `nul`, `{"a":1}x`, `"a\"b"`, `"\u0041"`, "\"a\tb\"", "\"é\"", `{a:1}`, `{"a":1 "b":2}`, `[1 2]`,
	`{"a":1,"a":2}`,
}

// Whatever the scanner accepts, encoding/json accepts too.
func TestValueIsSound(t *testing.T) {
	for _, in := range samples {
		s := Scanner{B: []byte(in)}
		_, _, ok := s.Value()
		ok = ok && s.End()
		if ok && !json.Valid([]byte(in)) {
			t.Errorf("%q accepted but not valid JSON", in)
		}
		if !ok && json.Valid([]byte(in)) && in != `"a\"b"` && in != `"\u0041"` && in != "\"é\"" && in != `{"a":1,"a":2}` {
			t.Errorf("%q is plain valid JSON but was refused", in)
		}
	}
}

func FuzzValueIsSound(f *testing.F) {
	for _, in := range samples {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := Scanner{B: []byte(in)}
		if _, _, ok := s.Value(); ok && s.End() && !json.Valid([]byte(in)) {
			t.Fatalf("%q accepted but not valid JSON", in)
		}
	})
}

func TestObjectAndStrings(t *testing.T) {
	in := ` {"type": "consumer_name", "whitelist": ["a", "b" ,"c"], "n": {"x": [1]}} `
	s := Scanner{B: []byte(in)}
	ms, ok := s.Object()
	if !ok || !s.End() || len(ms) != 3 || ms[1].Key != "whitelist" || ms[2].Key != "n" || in[ms[2].Start:ms[2].End] != `{"x": [1]}` {
		t.Fatalf("%v %+v", ok, ms)
	}
	ws := Scanner{B: []byte(in), I: ms[1].Start}
	list, ok := ws.Strings(in)
	if !ok || len(list) != 3 || list[0] != "a" || list[2] != "c" {
		t.Fatalf("%v %q", ok, list)
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"a":1`, `["a",1]`} {
		s := Scanner{B: []byte(bad)}
		if _, ok := s.Object(); ok && bad[0] == '{' {
			t.Errorf("object %q accepted", bad)
		}
		if _, ok := s.Strings(bad); ok {
			t.Errorf("strings %q accepted", bad)
		}
	}
}
