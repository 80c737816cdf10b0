package gateway

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"devportal/internal/apperr"
	"devportal/models"
)

// APISIX's own patterns (apisix/schema_def.lua).
var (
	idPattern   = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,64}$`)
	hostPattern = regexp.MustCompile(`^\*?[0-9a-zA-Z\-._\[\]:]+$`)
	nodeHost    = regexp.MustCompile(`^[0-9a-zA-Z\-._\[\]:]+$`)
	labelValue  = regexp.MustCompile(`^\S{1,256}$`)
	httpMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE"}
)

// Labels the core writes itself; a template may not set them.
var reservedLabels = map[string]bool{"api7_service_template_id": true, "api7_route_template_id": true, "version": true, "managed_by": true}

// validID checks an APISIX resource ID chosen by a user.
func validID(v *apperr.Validator, field, id string) {
	v.Check(idPattern.MatchString(id), field, "must be 1 to 64 letters, digits, '-', '_' or '.'")
}

// validVersion checks a version string: it becomes an APISIX label value.
func validVersion(v *apperr.Validator, version string) {
	v.Check(version != "", "version", "is required")
	v.Check(version == "" || labelValue.MatchString(version) && len(version) <= 64, "version",
		"must be at most 64 characters without spaces")
}

// normalizeSpec trims and defaults a spec in place, then validates it.
// routeIDs are the route template IDs the spec may keep (nil: none).
func normalizeSpec(spec *models.ServiceSpec, routeIDs map[string]bool) error {
	var v apperr.Validator
	spec.Name = strings.TrimSpace(spec.Name)
	v.Check(spec.Name != "", "name", "is required")
	v.Check(len(spec.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(spec.Description) <= 4000, "description", "must be at most 4000 characters")
	if spec.Type == "" {
		spec.Type = TypeHTTP
	}
	switch spec.Type {
	case TypeHTTP:
		v.Check(len(spec.StreamRoutes) == 0, "stream_routes", "only a stream service has stream routes")
	case TypeStream:
		v.Check(len(spec.Routes) == 0, "routes", "a stream service has stream_routes, not routes")
	default:
		v.Add("type", `must be "http" or "stream"`)
	}
	validUpstream(&v, "upstream", &spec.Upstream, spec.Type)
	if spec.Canary != nil {
		validUpstream(&v, "canary.upstream", &spec.Canary.Upstream, spec.Type)
		v.Check(spec.Canary.Weight >= 1 && spec.Canary.Weight <= 99, "canary.weight", "must be a percentage from 1 to 99")
		v.Check(spec.Canary.Upstream.Scheme == spec.Upstream.Scheme, "canary.upstream.scheme", "must be the same as the upstream's")
		v.Check(spec.Canary.Upstream.Type == spec.Upstream.Type, "canary.upstream.type", "must be the same as the upstream's")
	}
	for k, val := range spec.Labels {
		f := "labels." + k
		v.Check(!reservedLabels[k], f, "is set by the gateway itself")
		v.Check(k != "" && len(k) <= 64, f, "label names are 1 to 64 characters")
		v.Check(labelValue.MatchString(val), f, "must be 1 to 256 characters without spaces")
	}
	if spec.Type == TypeHTTP {
		v.Check(len(spec.Routes) > 0, "routes", "an HTTP service needs at least one route")
		v.Check(len(spec.Routes) <= 1000, "routes", "at most 1000 routes per service")
		names := map[string]bool{}
		for i := range spec.Routes {
			validRoute(&v, fmt.Sprintf("routes[%d]", i), &spec.Routes[i], routeIDs, names)
		}
	}
	if spec.Type == TypeStream {
		v.Check(len(spec.StreamRoutes) > 0, "stream_routes", "a stream service needs at least one stream route")
		names := map[string]bool{}
		for i := range spec.StreamRoutes {
			r := &spec.StreamRoutes[i]
			f := fmt.Sprintf("stream_routes[%d]", i)
			r.Name = strings.TrimSpace(r.Name)
			v.Check(r.Name != "", f+".name", "is required")
			v.Check(!names[r.Name], f+".name", "is used by another stream route of this service")
			names[r.Name] = true
			v.Check(r.ServerPort >= 1 && r.ServerPort <= 65535, f+".server_port", "must be a port from 1 to 65535")
			if r.RemoteAddr != "" {
				v.Check(validIPOrCIDR(r.RemoteAddr), f+".remote_addr", "must be an IP address or CIDR")
			}
			checkTemplateID(&v, f+".template_id", r.TemplateID, routeIDs)
		}
	}
	return v.Err()
}

func checkTemplateID(v *apperr.Validator, field, id string, known map[string]bool) {
	if id != "" && !known[id] {
		v.Add(field, "%q is not a route of this service; leave it empty for a new route", id)
	}
}

func validRoute(v *apperr.Validator, f string, r *models.RouteSpec, known map[string]bool, names map[string]bool) {
	r.Name = strings.TrimSpace(r.Name)
	v.Check(r.Name != "", f+".name", "is required")
	v.Check(len(r.Name) <= 200, f+".name", "must be at most 200 characters")
	v.Check(!names[r.Name], f+".name", "is used by another route of this service")
	names[r.Name] = true
	checkTemplateID(v, f+".template_id", r.TemplateID, known)
	v.Check(len(r.Paths) > 0, f+".paths", "needs at least one path")
	seen := map[string]bool{}
	for j, p := range r.Paths {
		pf := fmt.Sprintf("%s.paths[%d]", f, j)
		if msg := pathProblem(p); msg != "" {
			v.Add(pf, "%s", msg)
		}
		v.Check(!seen[p], pf, "is listed twice")
		seen[p] = true
	}
	for j, m := range r.Methods {
		up := strings.ToUpper(strings.TrimSpace(m))
		r.Methods[j] = up
		v.Check(slices.Contains(httpMethods, up), fmt.Sprintf("%s.methods[%d]", f, j),
			"must be one of %s", strings.Join(httpMethods, ", "))
	}
	slices.Sort(r.Methods)
	v.Check(len(slices.Compact(slices.Clone(r.Methods))) == len(r.Methods), f+".methods", "lists a method twice")
	v.Check(r.PluginTemplateID == "" || idPattern.MatchString(r.PluginTemplateID), f+".plugin_template_id", "is not a plugin template ID")
}

// pathProblem says why APISIX's router would not take a path, or "".
func pathProblem(p string) string {
	switch {
	case p == "":
		return "must not be empty"
	case !strings.HasPrefix(p, "/"):
		return `must start with "/"`
	case len(p) > 4096:
		return "must be at most 4096 characters"
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain spaces or control characters"
	case strings.ContainsAny(p, "?#"):
		return "must not contain a query (?) or fragment (#)"
	case strings.Contains(strings.TrimSuffix(p, "*"), "*") && !strings.Contains(p, "/*"):
		return `may use "*" only at its end (prefix match) or as a "/*name" parameter`
	case strings.Contains(p, "//"):
		return `must not contain "//"`
	}
	return ""
}

// pathPrefixProblem checks a runtime path prefix ("" allowed).
func pathPrefixProblem(p string) string {
	if p == "" {
		return ""
	}
	if msg := pathProblem(p); msg != "" {
		return msg
	}
	if strings.HasSuffix(p, "/") || strings.ContainsAny(p, "*:") {
		return `must look like /name/name, without a trailing "/", "*" or ":"`
	}
	return ""
}

func validUpstream(v *apperr.Validator, f string, u *models.UpstreamSpec, svcType string) {
	if u.Type == "" {
		u.Type = "roundrobin"
	}
	switch u.Type {
	case "roundrobin":
	case "chash":
		if u.HashOn == "" {
			u.HashOn = "vars"
		}
		v.Check(slices.Contains([]string{"vars", "header", "cookie", "consumer", "vars_combinations"}, u.HashOn),
			f+".hash_on", "must be vars, header, cookie, consumer or vars_combinations")
		v.Check(u.Key != "" || u.HashOn == "consumer", f+".key", "is required for chash")
	default:
		v.Add(f+".type", `must be "roundrobin" or "chash"`)
	}
	if svcType == TypeStream {
		if u.Scheme == "" {
			u.Scheme = "tcp"
		}
		v.Check(u.Scheme == "tcp", f+".scheme", `must be "tcp" for a stream service`)
	} else {
		if u.Scheme == "" {
			u.Scheme = "http"
		}
		v.Check(u.Scheme == "http" || u.Scheme == "https", f+".scheme", `must be "http" or "https"`)
		if u.PassHost == "" {
			u.PassHost = "pass"
		}
		v.Check(slices.Contains([]string{"pass", "node", "rewrite"}, u.PassHost), f+".pass_host", "must be pass, node or rewrite")
		v.Check(u.PassHost != "rewrite" || hostPattern.MatchString(u.UpstreamHost), f+".upstream_host", "is required (a host name) when pass_host is rewrite")
	}
	v.Check(len(u.Nodes) > 0, f+".nodes", "needs at least one node")
	v.Check(len(u.Nodes) <= 1000, f+".nodes", "at most 1000 nodes")
	seen := map[string]bool{}
	for i, n := range u.Nodes {
		nf := fmt.Sprintf("%s.nodes[%d]", f, i)
		v.Check(n.Host != "" && nodeHost.MatchString(n.Host) && len(n.Host) <= 255, nf+".host", "must be a host name or IP address")
		v.Check(n.Port >= 1 && n.Port <= 65535, nf+".port", "must be a port from 1 to 65535")
		v.Check(n.Weight >= 0 && n.Weight <= 65535, nf+".weight", "must be from 0 to 65535")
		addr := net.JoinHostPort(n.Host, fmt.Sprint(n.Port))
		v.Check(!seen[addr], nf, "%s is listed twice", addr)
		seen[addr] = true
	}
	if t := u.Timeout; t != nil {
		v.Check(t.Connect >= 0 && t.Send >= 0 && t.Read >= 0, f+".timeout", "seconds must be positive")
	}
	if u.Retries != nil {
		v.Check(*u.Retries >= 0 && *u.Retries <= 100, f+".retries", "must be from 0 to 100")
	}
}

// normalizeRuntime trims and validates a group's runtime configuration.
func normalizeRuntime(rt *models.Runtime, svcType string) error {
	var v apperr.Validator
	rt.PathPrefix = strings.TrimSpace(rt.PathPrefix)
	if msg := pathPrefixProblem(rt.PathPrefix); msg != "" {
		v.Add("runtime.path_prefix", "%s", msg)
	}
	v.Check(!rt.StripPathPrefix || rt.PathPrefix != "", "runtime.strip_path_prefix", "needs a path_prefix to strip")
	seen := map[string]bool{}
	for i, h := range rt.Hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		rt.Hosts[i] = h
		f := fmt.Sprintf("runtime.hosts[%d]", i)
		v.Check(hostPattern.MatchString(h) && len(h) <= 255, f, "must be a host name, optionally starting with *")
		v.Check(!seen[h], f, "is listed twice")
		seen[h] = true
	}
	if svcType == TypeStream {
		v.Check(len(rt.Hosts) == 0 && rt.PathPrefix == "", "runtime", "a stream service has no hosts or path prefix")
	}
	if rt.Upstream != nil {
		validUpstream(&v, "runtime.upstream", rt.Upstream, svcType)
	}
	return v.Err()
}

func validIPOrCIDR(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	_, _, err := net.ParseCIDR(s)
	return err == nil
}

func itoa(i int) string { return fmt.Sprint(i) }

// consumerName is APISIX's consumer username pattern.
var consumerName = regexp.MustCompile(`^[a-zA-Z0-9_\-]{1,100}$`)
