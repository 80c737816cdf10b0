// Package tryit sends a developer's test request to an API through the
// gateway and returns the answer for the API page. It only ever calls the
// configured gateway, only on the API's own paths, with bounded time and size,
// so the portal cannot be turned into a proxy to anywhere else.
package tryit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"devportal/internal/apperr"
)

// Limits of one call.
const (
	MaxBody     = 64 << 10  // request body
	MaxResponse = 256 << 10 // response body shown
	Timeout     = 10 * time.Second
)

// Request is what the try-it form sends.
type Request struct {
	Method string
	Path   string // path and optional query, e.g. /pets?limit=2
	// Headers are "Name: value" lines; hop-by-hop and Host are refused.
	Headers string
	Body    string
	APIKey  string // sent as the apikey header when set
}

// Response is what the gateway answered.
type Response struct {
	Status    int
	Headers   []Header
	Body      string
	Truncated bool
	Took      time.Duration
}

// Header is one response header.
type Header struct{ Name, Value string }

// Client calls one gateway.
type Client struct {
	base *url.URL
	http *http.Client
}

// New calls the gateway at baseURL (e.g. http://localhost:9080).
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tryit: gateway URL %q is not an http(s) URL", baseURL)
	}
	return &Client{base: u, http: &http.Client{
		Timeout: Timeout,
		// A redirect is shown, not followed: it may point anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

var refused = map[string]bool{"host": true, "connection": true, "content-length": true, "transfer-encoding": true,
	"upgrade": true, "te": true, "trailer": true, "proxy-authorization": true, "proxy-connection": true, "keep-alive": true}

// Do checks r against the API's paths (uris as the gateway routes them,
// "/*" suffixes for prefixes) and methods (empty: any), sends it, and
// returns the answer. Bad input is an apperr.ValidationError by field.
func (c *Client) Do(ctx context.Context, r Request, uris, allowed []string) (Response, error) {
	var v apperr.Validator
	r.Method = strings.ToUpper(strings.TrimSpace(r.Method))
	v.Check(slices.Contains(methods, r.Method), "method", "must be one of %s", strings.Join(methods, ", "))
	v.Check(len(allowed) == 0 || slices.Contains(allowed, r.Method), "method", "the API answers %s only", strings.Join(allowed, ", "))
	path, query, _ := strings.Cut(strings.TrimSpace(r.Path), "?")
	u, err := url.Parse(path)
	v.Check(err == nil && strings.HasPrefix(path, "/") && u.Host == "" && !strings.Contains(path, ".."), "path", `must be a path starting with "/"`)
	if err == nil && !matches(path, uris) {
		v.Add("path", "is not a path of this API (%s)", strings.Join(uris, ", "))
	}
	v.Check(len(r.Body) <= MaxBody, "body", "must be at most 64 KiB")
	hdr := http.Header{}
	for i, line := range strings.Split(strings.ReplaceAll(r.Headers, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			v.Add("headers", "line %d: want \"Name: value\"", i+1)
			continue
		}
		if refused[strings.ToLower(name)] {
			v.Add("headers", "line %d: %s cannot be set here", i+1, name)
			continue
		}
		hdr.Add(name, strings.TrimSpace(value))
	}
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	target := *c.base
	target.Path = strings.TrimRight(c.base.Path, "/") + path
	target.RawQuery = query
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target.String(), body)
	if err != nil {
		return Response{}, apperr.Invalid("path", "%v", err)
	}
	req.Header = hdr
	if r.APIKey != "" {
		req.Header.Set("apikey", r.APIKey)
	}
	if r.Body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, apperr.Unavailable("the gateway", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	out := Response{Status: resp.StatusCode, Took: time.Since(start), Truncated: len(b) > MaxResponse}
	if out.Truncated {
		b = b[:MaxResponse]
	}
	out.Body = string(b)
	names := make([]string, 0, len(resp.Header))
	for n := range resp.Header {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, val := range resp.Header[n] {
			out.Headers = append(out.Headers, Header{Name: n, Value: val})
		}
	}
	return out, nil
}

// matches tells whether path is one the API's uris route.
func matches(path string, uris []string) bool {
	for _, u := range uris {
		switch {
		case strings.HasSuffix(u, "*"):
			if strings.HasPrefix(path, strings.TrimSuffix(u, "*")) {
				return true
			}
		case strings.Contains(u, "/:"):
			if segmentsMatch(path, u) {
				return true
			}
		case path == u:
			return true
		}
	}
	return false
}

// segmentsMatch matches /pets/:id against /pets/7.
func segmentsMatch(path, pattern string) bool {
	ps, qs := strings.Split(path, "/"), strings.Split(pattern, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range qs {
		if !strings.HasPrefix(qs[i], ":") && qs[i] != ps[i] {
			return false
		}
	}
	return true
}
