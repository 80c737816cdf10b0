package plugin

import (
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// ProxyRewrite is APISIX's proxy-rewrite: the upstream URI (uri, or
// regex_uri pairs tried in order), Host, method and request headers.
type ProxyRewrite struct {
	URI      *string `json:"uri"`
	RegexURI []string
	Host     string
	Method   string

	regexes []*regexp.Regexp
	// prefixes[i], when set, is regexes[i]'s literal prefix: the regex is
	// "^prefix(.*)", the commonest regex_uri, matched without the regexp
	// engine (a third of the plugin's time on a route doing nothing else).
	prefixes []*string
	tmpls    []string
	add      []hdrOp
	set      []hdrOp
	remove   []string
	addsHop  bool // add or set names a hop-by-hop header
}

type hdrOp struct {
	name   string
	values []string
}

var hostRe = regexp.MustCompile(`^[0-9a-zA-Z-.]+(:\d{1,5})?$`)

var rewriteMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "HEAD": true, "DELETE": true,
	"OPTIONS": true, "MKCOL": true, "COPY": true, "MOVE": true, "PROPFIND": true, "LOCK": true,
	"UNLOCK": true, "PATCH": true, "TRACE": true}

// NewProxyRewrite compiles a proxy-rewrite configuration.
func NewProxyRewrite(raw json.RawMessage) (*ProxyRewrite, error) {
	var conf struct {
		URI      *string         `json:"uri"`
		RegexURI []string        `json:"regex_uri"`
		Host     *string         `json:"host"`
		Method   *string         `json:"method"`
		Headers  json.RawMessage `json:"headers"`
		Unsafe   bool            `json:"use_real_request_uri_unsafe"`
	}
	if err := decodeObject(raw, &conf); err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(raw, &probe)
	if len(probe) == 0 {
		return nil, fmt.Errorf("expect object to have at least 1 properties")
	}
	if conf.Unsafe {
		return nil, fmt.Errorf("use_real_request_uri_unsafe is not supported by this node")
	}
	p := &ProxyRewrite{URI: conf.URI}
	if conf.URI != nil && (len(*conf.URI) == 0 || len(*conf.URI) > 4096 || (*conf.URI)[0] != '/') {
		return nil, fmt.Errorf("property \"uri\" validation failed: must start with /")
	}
	if conf.RegexURI != nil {
		if len(conf.RegexURI) < 2 {
			return nil, fmt.Errorf("property \"regex_uri\" validation failed: expect array to have at least 2 items")
		}
		if len(conf.RegexURI)%2 != 0 {
			return nil, fmt.Errorf("The length of regex_uri should be an even number")
		}
		for i := 0; i < len(conf.RegexURI); i += 2 {
			re, err := regexp.Compile(conf.RegexURI[i])
			if err != nil {
				return nil, fmt.Errorf("invalid regex_uri(%s, %s): %v", conf.RegexURI[i], conf.RegexURI[i+1], err)
			}
			p.regexes = append(p.regexes, re)
			p.prefixes = append(p.prefixes, prefixCapture(conf.RegexURI[i]))
			p.tmpls = append(p.tmpls, goTemplate(conf.RegexURI[i+1]))
		}
		p.RegexURI = conf.RegexURI
	}
	if conf.Host != nil {
		if !hostRe.MatchString(*conf.Host) {
			return nil, fmt.Errorf("property \"host\" validation failed: does not match pattern")
		}
		p.Host = *conf.Host
	}
	if conf.Method != nil {
		if !rewriteMethods[*conf.Method] {
			return nil, fmt.Errorf("property \"method\" validation failed: matches none of the enum values")
		}
		p.Method = *conf.Method
	}
	if len(conf.Headers) > 0 {
		if err := p.parseHeaders(conf.Headers); err != nil {
			return nil, err
		}
	}
	for _, ops := range [][]hdrOp{p.add, p.set} {
		for _, op := range ops {
			p.addsHop = p.addsHop || IsHopHeader([]byte(op.name))
		}
	}
	return p, nil
}

func (p *ProxyRewrite) parseHeaders(raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) == 0 {
		return fmt.Errorf("property \"headers\" validation failed: want a non-empty object")
	}
	_, hasAdd := obj["add"]
	_, hasSet := obj["set"]
	_, hasRemove := obj["remove"]
	if hasAdd || hasSet || hasRemove {
		for k := range obj {
			if k != "add" && k != "set" && k != "remove" {
				return fmt.Errorf("property \"headers\" validation failed: unknown operation %q", k)
			}
		}
		var err error
		if hasAdd {
			if p.add, err = headerOps(obj["add"], true); err != nil {
				return err
			}
		}
		if hasSet {
			if p.set, err = headerOps(obj["set"], true); err != nil {
				return err
			}
		}
		if hasRemove {
			if err := json.Unmarshal(obj["remove"], &p.remove); err != nil || len(p.remove) == 0 {
				return fmt.Errorf("property \"headers.remove\" validation failed: want a list of names")
			}
			for _, n := range p.remove {
				if n == "" || strings.Contains(n, ":") {
					return fmt.Errorf("invalid header name %q", n)
				}
			}
		}
		return nil
	}
	// The old form: {"name": "value"} sets headers.
	var err error
	p.set, err = headerOps(raw, false)
	return err
}

func headerOps(raw json.RawMessage, lists bool) ([]hdrOp, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) == 0 {
		return nil, fmt.Errorf("headers: want a non-empty object")
	}
	var ops []hdrOp
	for name, v := range obj {
		if name == "" || strings.Contains(name, ":") {
			return nil, fmt.Errorf("invalid field character in header %q", name)
		}
		op := hdrOp{name: name}
		if s, ok := scalar(v); ok {
			op.values = []string{s}
		} else {
			var list []json.RawMessage
			if !lists || json.Unmarshal(v, &list) != nil || len(list) == 0 {
				return nil, fmt.Errorf("invalid type as header value of %q", name)
			}
			for _, x := range list {
				s, ok := scalar(x)
				if !ok {
					return nil, fmt.Errorf("invalid type as header value of %q", name)
				}
				op.values = append(op.values, s)
			}
		}
		for _, s := range op.values {
			if strings.ContainsAny(s, "\r\n") {
				return nil, fmt.Errorf("invalid value character in header %q", name)
			}
		}
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].name < ops[j].name })
	return ops, nil
}

func scalar(v json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var f json.Number
	if json.Unmarshal(v, &f) == nil {
		return f.String(), true
	}
	return "", false
}

// prefixCapture returns the literal prefix of a regex of the form
// "^prefix(.*)" (no flags, nothing after the group), nil for any other.
// For a subject without a line feed such a regex matches exactly the
// subjects that start with prefix, capturing the rest.
func prefixCapture(expr string) *string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) != 3 {
		return nil
	}
	begin, lit, group := re.Sub[0], re.Sub[1], re.Sub[2]
	if begin.Op != syntax.OpBeginText || lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 ||
		group.Op != syntax.OpCapture || group.Cap != 1 || len(group.Sub) != 1 {
		return nil
	}
	if star := group.Sub[0]; star.Op != syntax.OpStar || star.Flags&syntax.NonGreedy != 0 || len(star.Sub) != 1 || star.Sub[0].Op != syntax.OpAnyCharNotNL {
		return nil
	}
	prefix := string(lit.Rune)
	return &prefix
}

// goTemplate turns ngx.re.sub's "$1"/"${1}"/"$$" into regexp.Expand's form.
func goTemplate(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '$' {
			b.WriteString("$$")
			i++
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+1 {
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
			continue
		}
		b.WriteByte('$')
	}
	return b.String()
}

// Rewrite changes the request bound upstream.
func (p *ProxyRewrite) Rewrite(c *Ctx) *Reply {
	if p.Host != "" {
		c.UpstreamHost = p.Host
	}
	newPath := ""
	rewritten := false
	if p.URI != nil {
		newPath, _ = c.ResolveVars(*p.URI)
		rewritten = true
	} else if p.regexes != nil {
		for i, re := range p.regexes {
			var m []int
			if pre := p.prefixes[i]; pre != nil && !strings.Contains(c.Path, "\n") {
				if strings.HasPrefix(c.Path, *pre) {
					m = []int{0, len(c.Path), len(*pre), len(c.Path)}
				}
			} else {
				m = re.FindStringSubmatchIndex(c.Path)
			}
			if m == nil {
				continue
			}
			caps := make([]string, len(m)/2)
			for k := range caps {
				if m[2*k] >= 0 {
					caps[k] = c.Path[m[2*k]:m[2*k+1]]
				}
			}
			c.captures = caps
			var out []byte
			out = append(out, c.Path[:m[0]]...)
			out = re.ExpandString(out, p.tmpls[i], c.Path, m)
			out = append(out, c.Path[m[1]:]...)
			newPath = string(out)
			rewritten = true
			break
		}
	}
	if rewritten {
		path, query, hasQuery := strings.Cut(newPath, "?")
		uri := append(c.UpstreamURI[:0], safeEncode(path)...)
		args := c.Req.URI().QueryArgs().QueryString()
		if hasQuery {
			uri = append(uri, '?')
			uri = append(uri, query...)
			if len(args) > 0 {
				uri = append(uri, '&')
				uri = append(uri, args...)
			}
		} else if len(args) > 0 {
			uri = append(uri, '?')
			uri = append(uri, args...)
		}
		c.UpstreamURI = uri
	}
	if p.add != nil || p.set != nil || p.remove != nil {
		c.AddedHopHeader = c.AddedHopHeader || p.addsHop
		h := &c.Req.Header
		for _, op := range p.add {
			for _, v := range op.values {
				val, _ := c.ResolveVars(v)
				h.Add(op.name, val)
			}
		}
		for _, op := range p.set {
			h.Del(op.name)
			for _, v := range op.values {
				val, _ := c.ResolveVars(v)
				if val == "" && len(op.values) == 1 {
					continue // a value resolving to nothing removes the header
				}
				h.Add(op.name, val)
			}
		}
		for _, name := range p.remove {
			h.Del(name)
		}
	}
	if p.Method != "" {
		c.Req.Header.SetMethod(p.Method)
	}
	return nil
}

// safeEncode escapes what may not stand in a URI path, keeping reserved
// characters and existing escapes, like APISIX's uri_safe_encode.
func safeEncode(p string) string {
	const hex = "0123456789ABCDEF"
	need := false
	for i := 0; i < len(p); i++ {
		if !pathSafe(p[i]) {
			need = true
			break
		}
	}
	if !need {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if pathSafe(ch) {
			b.WriteByte(ch)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&15])
		}
	}
	return b.String()
}

func pathSafe(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}
	return strings.IndexByte("-._~/!$&'()*+,;=:@%", ch) >= 0
}
