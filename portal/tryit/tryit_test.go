package tryit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"devportal/internal/apperr"
)

func TestTryItCallsOnlyTheAPI(t *testing.T) {
	var got *http.Request
	var gotBody string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Upstream", "yes")
		if r.URL.Path == "/pets/big" {
			w.Write([]byte(strings.Repeat("x", MaxResponse+10)))
			return
		}
		w.WriteHeader(201)
		w.Write([]byte(`{"ok":true}`))
	}))
	defer gw.Close()
	c, err := New(gw.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	uris := []string{"/pets", "/pets/*", "/owners/:id"}
	resp, err := c.Do(ctx, Request{Method: "post", Path: "/pets?limit=2", Body: `{"name":"rex"}`,
		Headers: "X-Trace: 1\n", APIKey: "dpk_test"}, uris, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || resp.Body != `{"ok":true}` || got.URL.RawQuery != "limit=2" || gotBody != `{"name":"rex"}` {
		t.Fatalf("resp = %+v, query %q body %q", resp, got.URL.RawQuery, gotBody)
	}
	if got.Header.Get("apikey") != "dpk_test" || got.Header.Get("X-Trace") != "1" || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers sent = %v", got.Header)
	}
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "/owners/7"}, uris, nil); err != nil {
		t.Fatalf("parameter path refused: %v", err)
	}
	big, _ := c.Do(ctx, Request{Method: "GET", Path: "/pets/big"}, uris, nil)
	if !big.Truncated || len(big.Body) != MaxResponse {
		t.Fatalf("large answer: truncated %v, %d bytes", big.Truncated, len(big.Body))
	}
	for field, r := range map[string]Request{
		"path":    {Method: "GET", Path: "/admin"},
		"method":  {Method: "BREW", Path: "/pets"},
		"headers": {Method: "GET", Path: "/pets", Headers: "Host: evil.example"},
		"body":    {Method: "POST", Path: "/pets", Body: strings.Repeat("a", MaxBody+1)},
	} {
		_, err := c.Do(ctx, r, uris, nil)
		var ve *apperr.ValidationError
		if !errors.As(err, &ve) || ve.Fields[field] == "" {
			t.Errorf("%s: %v", field, err)
		}
	}
	for _, p := range []string{"//evil.example/pets", "http://evil.example/pets", "/pets/../admin"} {
		if _, err := c.Do(ctx, Request{Method: "GET", Path: p}, uris, nil); err == nil {
			t.Errorf("path %q was sent", p)
		}
	}
	if _, err := c.Do(ctx, Request{Method: "DELETE", Path: "/pets"}, uris, []string{"GET"}); err == nil {
		t.Error("a method the API does not answer was sent")
	}
	if _, err := New("ftp://x"); err == nil {
		t.Error("ftp gateway URL accepted")
	}
}
