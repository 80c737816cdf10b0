package handlers

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"
)

// requestError is bad input found before the domain sees it: a body that is
// not the JSON the endpoint takes. It answers Status with Code and Message.
type requestError struct {
	Status  int
	Code    string
	Message string
}

func (e *requestError) Error() string { return e.Message }

func badRequest(format string, args ...any) *requestError {
	return &requestError{Status: fiber.StatusBadRequest, Code: "invalid_json", Message: fmt.Sprintf(format, args...)}
}

// decodeJSON reads the request body into v, which must point to a struct.
func decodeJSON(c fiber.Ctx, v any) error {
	return decodeBody(c.Get(fiber.HeaderContentType), c.Body(), v)
}

// decodeBody is decodeJSON without fiber: the body must be one JSON value
// of v's shape, with no unknown fields and nothing after it.
func decodeBody(contentType string, body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("request body is empty: want a JSON object")
	}
	if !isJSONType(contentType) {
		got := contentType
		if got == "" {
			got = "none"
		}
		return &requestError{
			Status:  fiber.StatusUnsupportedMediaType,
			Code:    "unsupported_media_type",
			Message: fmt.Sprintf("Content-Type must be application/json, got %s", got),
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr):
		return badRequest("malformed JSON at offset %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON at offset %d: unexpected end of input", len(body))
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return badRequest("malformed JSON at offset %d: unexpected data after the top-level value", dec.InputOffset())
		}
	}
	// Walk the body again against v's type: it names the place of a type
	// error or unknown field with array indices ("routes[1].paths"), and it
	// also checks inside our own types that decode themselves (UnmarshalJSON
	// filling defaults), where DisallowUnknownFields does not reach.
	var generic any
	gdec := json.NewDecoder(bytes.NewReader(body))
	gdec.UseNumber()
	if gdec.Decode(&generic) == nil {
		if msg := mismatch(reflect.TypeOf(v), generic, ""); msg != "" {
			return badRequest("%s", msg)
		}
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return badRequest("request body: want %s, got %s", describeType(typeErr.Type), typeErr.Value)
		}
		return badRequest("field %s: want %s, got %s", typeErr.Field, describeType(typeErr.Type), typeErr.Value)
	}
	return badRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
}

// isJSONType accepts application/json and application/<anything>+json.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// decodesItself tells whether the walk must trust t's own decoding
// (time.Time and the like). The module's own structs with UnmarshalJSON only
// fill defaults around the same fields (models.NodeSpec), so they are
// walked like plain structs.
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	if !pt.Implements(jsonUnmarshalerType) && !pt.Implements(textUnmarshalerType) {
		return false
	}
	return t.Kind() != reflect.Struct || !strings.HasPrefix(t.PkgPath(), "devportal/")
}

// mismatch returns the first place where the decoded JSON value v does not
// fit type t ("field routes[0].paths: want array of strings, got string"),
// or "" when it fits.
func mismatch(t reflect.Type, v any, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "" // null leaves the Go value as it is
	}
	if decodesItself(t) {
		return ""
	}
	field := func() string {
		if path == "" {
			return "request body"
		}
		return "field " + path
	}
	wrong := func() string {
		return fmt.Sprintf("%s: want %s, got %s", field(), describeType(t), describeValue(v))
	}
	switch t.Kind() {
	case reflect.Interface:
		return ""
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrong()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return wrong()
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			if _, err := strconv.ParseUint(string(n), 10, 64); err != nil {
				return wrong()
			}
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return wrong()
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return wrong()
		}
		for i, item := range items {
			if msg := mismatch(t.Elem(), item, fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return msg
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrong()
		}
		for _, k := range sortedKeys(obj) {
			if msg := mismatch(t.Elem(), obj[k], join(path, k)); msg != "" {
				return msg
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrong()
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, known := fields[k]
			if !known {
				ft, known = fields[strings.ToLower(k)]
			}
			if !known {
				return fmt.Sprintf("%s: unknown field %q", fieldOr(path), k)
			}
			if msg := mismatch(ft, obj[k], join(path, k)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func fieldOr(path string) string {
	if path == "" {
		return "request body"
	}
	return "field " + path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonFields maps the JSON names of t's fields (exact and lower-cased, as
// encoding/json matches them) to their types, embedded structs flattened.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, taken := out[k]; !taken {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
		if _, taken := out[strings.ToLower(name)]; !taken {
			out[strings.ToLower(name)] = f.Type
		}
	}
	return out
}

// describeType names a Go type in JSON words: "array of strings".
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + plural(describeType(t.Elem()))
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Interface:
		return "any value"
	}
	return t.String()
}

func plural(s string) string {
	switch {
	case strings.HasPrefix(s, "array of "):
		return "arrays"
	case s == "any value":
		return "values"
	case s == "object":
		return "objects"
	}
	return s + "s"
}

// describeValue names a decoded JSON value: "string", "number 1.5".
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number " + string(x)
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}
