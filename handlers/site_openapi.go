package handlers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"devportal/views/site"
)

// Depth limits of the schema rendering (recursive schemas stop there).
const (
	schemaMaxDepth = 6
	schemaMaxLines = 200
)

var methodOrder = map[string]int{"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4, "HEAD": 5, "OPTIONS": 6, "TRACE": 7}

// docView prepares an OpenAPI document for reading: operations grouped by
// their first tag (untagged ones under "Other"), in the order of the
// document's tags, each with its parameters, request body and responses.
func docView(doc *openapi3.T) *site.Doc {
	d := &site.Doc{}
	if doc.Info != nil {
		d.Title, d.Version, d.Description = doc.Info.Title, doc.Info.Version, doc.Info.Description
	}
	for _, s := range doc.Servers {
		if s != nil {
			d.Servers = append(d.Servers, s.URL)
		}
	}
	groups := map[string]*site.TagGroup{}
	var order []string
	for _, t := range doc.Tags {
		if t != nil && groups[t.Name] == nil {
			groups[t.Name] = &site.TagGroup{Name: t.Name, Description: t.Description}
			order = append(order, t.Name)
		}
	}
	var paths []string
	if doc.Paths != nil {
		for p := range doc.Paths.Map() {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		if item == nil {
			continue
		}
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Slice(methods, func(i, j int) bool { return methodOrder[methods[i]] < methodOrder[methods[j]] })
		for _, m := range methods {
			op := ops[m]
			if op == nil {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 && op.Tags[0] != "" {
				tag = op.Tags[0]
			}
			g := groups[tag]
			if g == nil {
				g = &site.TagGroup{Name: tag}
				groups[tag] = g
				if tag != "Other" {
					order = append(order, tag)
				}
			}
			g.Ops = append(g.Ops, operationView(m, path, item, op))
		}
	}
	if groups["Other"] != nil && !docContains(order, "Other") {
		order = append(order, "Other")
	}
	for _, name := range order {
		if g := groups[name]; g != nil && len(g.Ops) > 0 {
			d.Groups = append(d.Groups, *g)
		}
	}
	return d
}

func docContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func operationView(method, path string, item *openapi3.PathItem, op *openapi3.Operation) site.Operation {
	v := site.Operation{ID: op.OperationID, Method: strings.ToUpper(method), Path: path,
		Summary: op.Summary, Description: op.Description, Deprecated: op.Deprecated}
	seen := map[string]bool{}
	for _, list := range []openapi3.Parameters{op.Parameters, item.Parameters} {
		for _, pr := range list {
			if pr == nil || pr.Value == nil || seen[pr.Value.In+":"+pr.Value.Name] {
				continue
			}
			p := pr.Value
			seen[p.In+":"+p.Name] = true
			pv := site.Param{Name: p.Name, In: p.In, Required: p.Required, Description: p.Description, Type: schemaType(p.Schema)}
			if p.Example != nil {
				pv.Example = docCompact(p.Example)
			} else if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Example != nil {
				pv.Example = docCompact(p.Schema.Value.Example)
			}
			v.Params = append(v.Params, pv)
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		rb := op.RequestBody.Value
		ct, mt := pickContent(rb.Content)
		b := &site.Body{ContentType: ct, Required: rb.Required, Description: rb.Description}
		if mt != nil {
			b.Schema, b.Example = schemaText(mt.Schema), exampleText(mt)
		}
		v.Body = b
	}
	if op.Responses != nil {
		m := op.Responses.Map()
		codes := make([]string, 0, len(m))
		for c := range m {
			codes = append(codes, c)
		}
		sort.Strings(codes) // "default" sorts after the numbers
		for _, code := range codes {
			rr := m[code]
			if rr == nil || rr.Value == nil {
				continue
			}
			r := site.Response{Code: code}
			if rr.Value.Description != nil {
				r.Description = *rr.Value.Description
			}
			ct, mt := pickContent(rr.Value.Content)
			r.ContentType = ct
			if mt != nil {
				r.Schema, r.Example = schemaText(mt.Schema), exampleText(mt)
			}
			v.Responses = append(v.Responses, r)
		}
	}
	return v
}

// pickContent prefers JSON, then the first media type by name.
func pickContent(c openapi3.Content) (string, *openapi3.MediaType) {
	if len(c) == 0 {
		return "", nil
	}
	if mt := c["application/json"]; mt != nil {
		return "application/json", mt
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0], c[keys[0]]
}

func exampleText(mt *openapi3.MediaType) string {
	if mt.Example != nil {
		return docPretty(mt.Example)
	}
	names := make([]string, 0, len(mt.Examples))
	for k := range mt.Examples {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		if ex := mt.Examples[n]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return docPretty(ex.Value.Value)
		}
	}
	if mt.Schema != nil {
		if s := sample(mt.Schema, 0); s != nil {
			return docPretty(s)
		}
	}
	return ""
}

// sample builds an example value from a schema (its examples, enums,
// defaults, else a value of its type).
func sample(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > schemaMaxDepth {
		return nil
	}
	s := ref.Value
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		out := map[string]any{}
		for _, sub := range s.AllOf {
			if m, ok := sample(sub, depth+1).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	}
	for _, list := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf} {
		if len(list) > 0 {
			return sample(list[0], depth+1)
		}
	}
	switch {
	case s.Type.Is("object") || (s.Type.IsEmpty() && len(s.Properties) > 0):
		out := map[string]any{}
		for name, p := range s.Properties {
			out[name] = sample(p, depth+1)
		}
		return out
	case s.Type.Is("array"):
		if v := sample(s.Items, depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case s.Type.Is("integer"):
		return 0
	case s.Type.Is("number"):
		return 0.0
	case s.Type.Is("boolean"):
		return true
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "date":
			return "2026-01-01"
		case "email":
			return "user@example.com"
		case "uuid":
			return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
		}
		return "string"
	}
	return nil
}

// schemaType is a one-line type: "string (date-time)", "array of integer".
func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	s := ref.Value
	t := strings.Join(s.Type.Slice(), " | ")
	if t == "array" {
		if inner := schemaType(s.Items); inner != "" {
			t = "array of " + inner
		}
	}
	if t == "" && ref.Ref != "" {
		t = refName(ref.Ref)
	}
	if t == "" {
		t = "any"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			vals = append(vals, docCompact(e))
		}
		t += " one of " + strings.Join(vals, ", ")
	}
	return t
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// schemaText renders a schema as an indented outline: one property a line,
// with its type, required mark and description.
func schemaText(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	var b strings.Builder
	lines := 0
	var walk func(ref *openapi3.SchemaRef, indent string, depth int, seen map[*openapi3.Schema]bool)
	walk = func(ref *openapi3.SchemaRef, indent string, depth int, seen map[*openapi3.Schema]bool) {
		s := ref.Value
		if s == nil || depth > schemaMaxDepth || seen[s] || lines > schemaMaxLines {
			return
		}
		seen[s] = true
		defer delete(seen, s)
		props := s.Properties
		if s.Type.Is("array") && s.Items != nil && s.Items.Value != nil {
			props = s.Items.Value.Properties
			if len(props) > 0 {
				s = s.Items.Value
			}
		}
		for _, sub := range s.AllOf {
			walk(sub, indent, depth+1, seen)
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := props[n]
			req := ""
			if docContains(s.Required, n) {
				req = " *required"
			}
			desc := ""
			if p.Value != nil && p.Value.Description != "" {
				desc = " — " + firstLine(p.Value.Description)
			}
			fmt.Fprintf(&b, "%s%s: %s%s%s\n", indent, n, schemaType(p), req, desc)
			lines++
			if p.Value != nil && (len(p.Value.Properties) > 0 || len(p.Value.AllOf) > 0 ||
				(p.Value.Items != nil && p.Value.Items.Value != nil && len(p.Value.Items.Value.Properties) > 0)) {
				walk(p, indent+"  ", depth+1, seen)
			}
		}
	}
	head := schemaType(ref)
	if ref.Ref != "" {
		head = refName(ref.Ref) + " (" + head + ")"
	}
	b.WriteString(head + "\n")
	walk(ref, "  ", 0, map[*openapi3.Schema]bool{})
	return strings.TrimRight(b.String(), "\n")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "…"
	}
	return s
}

func docPretty(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func docCompact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
