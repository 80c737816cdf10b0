package catalog

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"devportal/internal/apperr"
)

// MaxOpenAPIBytes bounds an uploaded document.
const MaxOpenAPIBytes = 2 << 20

// ParseOpenAPI parses and validates an OpenAPI 3 document in JSON or YAML.
// A bad document is a validation error on the "openapi" field that names the
// problem as kin-openapi found it. External $refs are not followed.
func ParseOpenAPI(ctx context.Context, text string) (*openapi3.T, string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, "", nil
	}
	if len(text) > MaxOpenAPIBytes {
		return nil, "", apperr.Invalid("openapi", "the document is larger than 2 MiB")
	}
	format := "yaml"
	if strings.HasPrefix(text, "{") {
		format = "json"
		if !json.Valid([]byte(text)) {
			var v any
			err := json.Unmarshal([]byte(text), &v)
			return nil, "", apperr.Invalid("openapi", "is not valid JSON: %v", err)
		}
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromData([]byte(text))
	if err != nil {
		return nil, "", apperr.Invalid("openapi", "cannot be read: %v", err)
	}
	if doc.OpenAPI == "" {
		return nil, "", apperr.Invalid("openapi", `is not an OpenAPI 3 document: it has no "openapi" version field (Swagger 2.0 documents must be converted to OpenAPI 3 first)`)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, "", apperr.Invalid("openapi", "declares version %q; only OpenAPI 3.x is supported", doc.OpenAPI)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, "", apperr.Invalid("openapi", "is not a valid OpenAPI 3 document: %v", err)
	}
	return doc, format, nil
}
