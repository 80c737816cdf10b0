package plugin

import (
	"strings"
)

// Var resolves an APISIX (nginx) variable for the request: remote_addr,
// consumer_name, route_id, service_id, uri, request_uri, host,
// request_method, args, http_<header>, arg_<name>, cookie_<name>. Unknown
// names resolve to "" (nil in APISIX).
func (c *Ctx) Var(name string) string {
	switch name {
	case "remote_addr":
		return c.RemoteAddr
	case "consumer_name":
		if c.Consumer != nil {
			return c.Consumer.Username
		}
		return ""
	case "consumer_group_id":
		if c.Consumer != nil {
			return c.Consumer.GroupID
		}
		return ""
	case "route_id":
		return c.RouteID
	case "service_id":
		return c.ServiceID
	case "uri":
		return c.Path
	case "request_uri":
		return string(c.Req.Header.RequestURI())
	case "host":
		return c.Host
	case "request_method":
		return string(c.Req.Header.Method())
	case "args", "query_string":
		return string(c.Req.URI().QueryString())
	case "scheme":
		return "http"
	}
	switch {
	case strings.HasPrefix(name, "http_"):
		h := strings.ReplaceAll(name[5:], "_", "-")
		return string(c.Req.Header.Peek(h))
	case strings.HasPrefix(name, "arg_"):
		return string(c.Req.URI().QueryArgs().Peek(name[4:]))
	case strings.HasPrefix(name, "cookie_"):
		return string(c.Req.Header.Cookie(name[7:]))
	}
	return ""
}

// HasVar tells whether a variable has a value (APISIX's non-nil).
func (c *Ctx) HasVar(name string) bool { return c.Var(name) != "" }

// ResolveVars substitutes $name and ${name} in s with their values, and
// $1..$9 with the captures of proxy-rewrite's regex_uri; it returns how many
// variables had a value.
func (c *Ctx) ResolveVars(s string) (string, int) {
	if strings.IndexByte(s, '$') < 0 {
		return s, 0
	}
	var b strings.Builder
	resolved := 0
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i + 1
		var name string
		if s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			name = s[j+1 : j+end]
			j += end + 1
		} else {
			k := j
			for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
				k++
			}
			name = s[j:k]
			j = k
		}
		if name == "" {
			b.WriteByte('$')
			i++
			continue
		}
		var val string
		if n := captureIndex(name); n >= 0 {
			if n < len(c.captures) {
				val = c.captures[n]
			}
		} else {
			val = c.Var(name)
		}
		if val != "" {
			resolved++
		}
		b.WriteString(val)
		i = j
	}
	return b.String(), resolved
}

func captureIndex(name string) int {
	n := 0
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return -1
		}
		n = n*10 + int(name[i]-'0')
	}
	return n
}
