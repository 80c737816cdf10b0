package main

import (
	"io"
	"testing"
)

// The site's cookies are Secure exactly when its public URL is https: behind
// a TLS-terminating proxy DEVPORTAL_BASE_URL is the https address users see,
// and no request header (X-Forwarded-Proto) is trusted to decide it.
func TestSecureCookiesFollowBaseURL(t *testing.T) {
	for _, c := range []struct {
		base   string
		secure bool
	}{
		{"", false},
		{"http://portal.example.com", false},
		{"https://portal.example.com", true},
		{"https://portal.example.com/", true},
	} {
		env := map[string]string{"DEVPORTAL_BASE_URL": c.base}
		cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Site.SecureCookies != c.secure {
			t.Errorf("DEVPORTAL_BASE_URL=%q: SecureCookies %v, want %v", c.base, cfg.Site.SecureCookies, c.secure)
		}
	}
}
