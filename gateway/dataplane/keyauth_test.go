package dataplane

import (
	"testing"

	"devportal/gateway/apisix"
)

// keyAuthRoute is a route with key-auth and conf.
func keyAuthRoute(uri string, up apisix.Node, conf map[string]any, more map[string]any) map[string]any {
	plugins := map[string]any{"key-auth": conf}
	for k, v := range more {
		plugins[k] = v
	}
	return route(uri, up, map[string]any{"plugins": plugins})
}

func encKey(t *testing.T, key string) string {
	t.Helper()
	kr, err := apisix.NewKeyring(apisix.DefaultKeyring)
	if err != nil {
		t.Fatal(err)
	}
	return kr.Encrypt(key)
}

// Cases from APISIX's t/plugin/key-auth.t and docs/en/latest/plugins/key-auth.md.
func TestKeyAuth(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("consumers/jack", map[string]any{"username": "jack", "labels": map[string]string{"custom_id": "c-1"},
		"plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "auth-one")}}})
	e.put("routes/1", keyAuthRoute("/hello", up, map[string]any{}, nil))

	// valid key in the header
	r := e.get("/hello", "apikey: auth-one")
	expectStatus(t, r, 200)
	got := r.echo(t)
	if got.Headers.Get("X-Consumer-Username") != "jack" || got.Headers.Get("X-Consumer-Custom-Id") != "c-1" {
		t.Fatalf("consumer headers upstream: %v", got.Headers)
	}
	if got.Headers.Get("Apikey") != "auth-one" {
		t.Fatalf("key hidden without hide_credentials: %v", got.Headers)
	}
	if _, ok := got.Headers["X-Credential-Identifier"]; ok {
		t.Fatalf("X-Credential-Identifier set for a consumer key")
	}
	// invalid key
	r = e.get("/hello", "apikey: 123")
	expectBody(t, r, 401, `{"message":"Invalid API key in request"}`+"\n")
	if r.Header.Get("WWW-Authenticate") != `apikey realm="key"` {
		t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	// missing key
	expectBody(t, e.get("/hello"), 401, `{"message":"Missing API key in request"}`+"\n")
	// key in the query string
	r = e.get("/hello?apikey=auth-one&x=1")
	expectStatus(t, r, 200)
	if q := r.echo(t).Query; q != "apikey=auth-one&x=1" {
		t.Fatalf("query upstream %q", q)
	}
	// a client cannot claim a consumer by sending the header itself
	r = e.get("/hello", "apikey: auth-one", "X-Consumer-Username: admin", "X-Credential-Identifier: forged")
	got = r.echo(t)
	if got.Headers.Get("X-Consumer-Username") != "jack" || got.Headers.Get("X-Credential-Identifier") != "" {
		t.Fatalf("forged consumer headers reached upstream: %v", got.Headers)
	}

	// custom header and query names, hide_credentials
	e.put("routes/2", keyAuthRoute("/hidden", up, map[string]any{"header": "Authorization", "query": "auth", "hide_credentials": true}, nil))
	r = e.get("/hidden", "Authorization: auth-one")
	expectStatus(t, r, 200)
	if h := r.echo(t).Headers.Get("Authorization"); h != "" {
		t.Fatalf("hide_credentials left the header: %q", h)
	}
	r = e.get("/hidden?auth=auth-one&keep=1")
	expectStatus(t, r, 200)
	if q := r.echo(t).Query; q != "keep=1" {
		t.Fatalf("hide_credentials query upstream %q, want keep=1", q)
	}
	expectBody(t, e.get("/hidden", "apikey: auth-one"), 401, `{"message":"Missing API key in request"}`+"\n")

	// Keys stored in clear (written without data_encryption) work as stored.
	e.put("consumers/plain", map[string]any{"username": "plain", "plugins": map[string]any{"key-auth": map[string]any{"key": "plain-key"}}})
	expectStatus(t, e.get("/hello", "apikey: plain-key"), 200)

	// Deleting the consumer revokes its key at once.
	e.del("consumers/jack")
	expectBody(t, e.get("/hello", "apikey: auth-one"), 401, `{"message":"Invalid API key in request"}`+"\n")
}

func TestKeyAuthCredentials(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	// APISIX 3.10+: the consumer holds no key; its credentials do.
	e.put("consumers/app_1", map[string]any{"username": "app_1"})
	e.put("consumers/app_1/credentials/cred-a", map[string]any{"id": "cred-a", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "old-key")}}})
	e.put("consumers/app_1/credentials/cred-b", map[string]any{"id": "cred-b", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "new-key")}}})
	e.put("routes/1", keyAuthRoute("/x", up, map[string]any{}, nil))

	for key, cred := range map[string]string{"old-key": "cred-a", "new-key": "cred-b"} {
		r := e.get("/x", "apikey: "+key)
		expectStatus(t, r, 200)
		h := r.echo(t).Headers
		if h.Get("X-Consumer-Username") != "app_1" || h.Get("X-Credential-Identifier") != cred {
			t.Fatalf("key %s: headers %v", key, h)
		}
	}
	// The grace period ends: the old credential goes, the new one stays.
	e.del("consumers/app_1/credentials/cred-a")
	expectStatus(t, e.get("/x", "apikey: old-key"), 401)
	expectStatus(t, e.get("/x", "apikey: new-key"), 200)
	// A credential whose consumer is gone does not authenticate.
	e.del("consumers/app_1")
	expectStatus(t, e.get("/x", "apikey: new-key"), 401)
	e.put("consumers/app_1", map[string]any{"username": "app_1"})
	expectStatus(t, e.get("/x", "apikey: new-key"), 200)
}

func TestKeyAuthCustomKeyring(t *testing.T) {
	ring := []string{"abcdefghijklmnop"}
	e := newEnv(t, func(c *Config) { c.Keyring = ring })
	_, up := echoUpstream(t, "a")
	kr, _ := apisix.NewKeyring(ring)
	e.put("consumers/u", map[string]any{"username": "u", "plugins": map[string]any{"key-auth": map[string]any{"key": kr.Encrypt("secret")}}})
	e.put("routes/1", keyAuthRoute("/x", up, map[string]any{}, nil))
	expectStatus(t, e.get("/x", "apikey: secret"), 200)
	// A key encrypted with another keyring is kept as stored, as APISIX does.
	e.put("consumers/v", map[string]any{"username": "v", "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "other")}}})
	expectStatus(t, e.get("/x", "apikey: other"), 401)
	expectStatus(t, e.get("/x", "apikey: "+encKey(t, "other")), 200)
}

func TestKeyAuthAnonymousConsumer(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("consumers/anon", map[string]any{"username": "anon"})
	e.put("routes/1", keyAuthRoute("/x", up, map[string]any{"anonymous_consumer": "anon"}, nil))
	r := e.get("/x")
	expectStatus(t, r, 200)
	if u := r.echo(t).Headers.Get("X-Consumer-Username"); u != "anon" {
		t.Fatalf("consumer %q", u)
	}
	e.put("routes/2", keyAuthRoute("/y", up, map[string]any{"anonymous_consumer": "ghost"}, nil))
	expectBody(t, e.get("/y"), 401, `{"message":"Invalid user authorization"}`+"\n")
}
