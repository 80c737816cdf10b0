package handlers

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/admin/apis?x=1", "/admin/apis?x=1"},
		{"/", "/"},
		{"", "/f"},
		{"https://evil.example/", "/f"},
		{"//evil.example", "/f"},
		{`/\evil.example`, "/f"},
		{"javascript:alert(1)", "/f"},
		{"admin", "/f"},
		{"/a\r\nb", "/f"},
		{`/a\b`, "/f"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in, "/f"); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAuditValuesRedactSecrets(t *testing.T) {
	in := `{"Name":"x","PasswordHash":"$2a$...","nested":{"api_key":"dpk_abc","KeyHash":"ff","hint":"dpk_A"},"list":[{"token":"t"}]}`
	out := prettyJSON(in)
	for _, leak := range []string{"$2a$", "dpk_abc", `"ff"`, `"t"`} {
		if strings.Contains(out, leak) {
			t.Fatalf("prettyJSON leaks %s:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, `"Name": "x"`) || !strings.Contains(out, `"hint": "dpk_A"`) {
		t.Fatalf("prettyJSON dropped plain fields:\n%s", out)
	}
}
