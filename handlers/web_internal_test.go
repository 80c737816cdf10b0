package handlers

import "testing"

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
