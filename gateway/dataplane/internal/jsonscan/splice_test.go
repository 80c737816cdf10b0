package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestCommon(t *testing.T) {
	long := bytes.Repeat([]byte("abcdefgh"), 200)
	for _, c := range []struct {
		a, b string
		p, q int
	}{
		{"", "", 0, 0}, {"abc", "abc", 3, 0}, {"abc", "abd", 2, 0}, {"abc", "xbc", 0, 2},
		{"aXa", "aa", 1, 1}, {"aa", "aaa", 2, 0}, {"ab", "b", 0, 1},
		{string(long), string(long[:700]) + "!" + string(long[700:]), 700, len(long) - 700},
		{string(long), string(long[:700]) + string(long[701:]), 700, len(long) - 701},
	} {
		if p, q := Common(c.a, []byte(c.b)); p != c.p || q != c.q {
			t.Errorf("Common(%.20q, %.20q) = %d, %d; want %d, %d", c.a, c.b, p, q, c.p, c.q)
		}
	}
}

// checkSplice fails if StringsSplice accepts new while it is not valid JSON
// or the splice it gives does not describe new.
func checkSplice(t *testing.T, old, new string) (Splice, bool) {
	t.Helper()
	p, q := Common(old, []byte(new))
	sp, ok := StringsSplice([]byte(old), []byte(new), 0, p, q)
	if !ok {
		return sp, false
	}
	if !json.Valid([]byte(new)) {
		t.Fatalf("%s -> %s: accepted, not valid JSON", old, new)
	}
	if old[:sp.A] != new[:sp.A] || old[sp.B:] != new[sp.NewB:] || old[sp.A] != '"' || old[sp.B-1] != '"' {
		t.Fatalf("%s -> %s: splice %+v", old, new, sp)
	}
	return sp, true
}

func TestStringsSplice(t *testing.T) {
	old := `{"type":"x","whitelist":["a","bb","c"],"n":[1,"d"],"o":{"k":"v"}}`
	for new, want := range map[string]string{
		`{"type":"x","whitelist":["a","bx","c"],"n":[1,"d"],"o":{"k":"v"}}`:         `"bx"`,
		`{"type":"x","whitelist":["a","bb","c","e"],"n":[1,"d"],"o":{"k":"v"}}`:     `"c","e"`,
		`{"type":"x","whitelist":["z","a","bb","c"],"n":[1,"d"],"o":{"k":"v"}}`:     `"z","a"`,
		`{"type":"x","whitelist":["a","c"],"n":[1,"d"],"o":{"k":"v"}}`:              `"c"`,
		`{"type":"x","whitelist":["a","bb"],"n":[1,"d"],"o":{"k":"v"}}`:             `"bb"`,
		`{"type":"x","whitelist":["a","bb", "c"],"n":[1,"d"],"o":{"k":"v"}}`:        `"bb", "c"`,
		`{"type":"x","whitelist":["a","bb","c"],"n":[1,"e"],"o":{"k":"v"}}`:         `"e"`,
		`{"type":"x","whitelist":[],"n":[1,"d"],"o":{"k":"v"}}`:                     "",
		`{"type":"x","whitelist":["a",,"c"],"n":[1,"d"],"o":{"k":"v"}}`:             "",
		`{"type":"x","whitelist":["a","b\"","c"],"n":[1,"d"],"o":{"k":"v"}}`:        "",
		`{"type":"x","whitelist":["a","b\u0041","c"],"n":[1,"d"],"o":{"k":"v"}}`:    "",
		`{"type":"x","whitelist":["a","bb","c"],"n":[1,"d"],"o":{"k":"w"}}`:         "",
		`{"type":"y","whitelist":["a","bb","c"],"n":[1,"d"],"o":{"k":"v"}}`:         "",
		`{"type":"x","whitelist":["a","bb"],"c":["c"],"n":[1,"d"],"o":{"k":"v"}}`:   "",
		`{"type":"x","whitelist":["a","bb","c"],"n":[1,"d","e"],"o":{"k":"v"}}`:     `"d","e"`,
		`{"type":"x","whitelist":["a","bb","c"],"n":[1,"d"],"o":{"k":"v","x":"y"}}`: "",
	} {
		got := ""
		if sp, ok := checkSplice(t, old, new); ok {
			got = new[sp.A:sp.NewB]
		}
		if got != want {
			t.Errorf("%s: new part %q, want %q", new, got, want)
		}
	}
}

// FuzzStringsSplice: whatever StringsSplice accepts is valid JSON it
// describes.
func FuzzStringsSplice(f *testing.F) {
	f.Add(`["a","bb","c"]`, 5, 1, `x","y`)
	f.Add(`{"w":["a","b"],"x":{"k":["c"]}}`, 9, 3, `],"v":["`)
	f.Fuzz(func(t *testing.T, old string, at, cut int, ins string) {
		s := Scanner{B: []byte(old)}
		if _, _, ok := s.Value(); !ok || !s.End() || at < 0 || cut < 0 || at > len(old) {
			return
		}
		checkSplice(t, old, old[:at]+ins+old[min(len(old), at+cut):])
	})
}
