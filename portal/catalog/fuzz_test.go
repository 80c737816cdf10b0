package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"devportal/internal/apperr"
	"devportal/portal/catalog"
)

// FuzzParseOpenAPI: any uploaded document is either accepted or refused with
// a validation error on the openapi field; never a panic or another error.
// Run: go test ./portal/catalog -run '^$' -fuzz FuzzParseOpenAPI -fuzztime 60s
func FuzzParseOpenAPI(f *testing.F) {
	f.Add(petstore)
	f.Add(`{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{}}`)
	f.Add(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"parameters":[{"$ref":"#/components/parameters/p"}],"responses":{"200":{"description":"ok"}}}}},"components":{"parameters":{"p":{"name":"p","in":"query","schema":{"$ref":"#/components/schemas/s"}}},"schemas":{"s":{"type":"array","items":{"$ref":"#/components/schemas/s"}}}}}`)
	f.Add("openapi: 3.0.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    $ref: 'http://127.0.0.1:1/x.yaml'\n")
	f.Fuzz(func(t *testing.T, doc string) {
		d, _, err := catalog.ParseOpenAPI(context.Background(), doc)
		var ve *apperr.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error that is not a validation error: %v", err)
		}
		if err == nil && strings.TrimSpace(doc) != "" && d == nil {
			t.Fatalf("accepted %q without a document", doc)
		}
	})
}
