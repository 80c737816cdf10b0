// Command portalbench measures a running devportal filled by `devportal
// seed` (scripts/bench/portal.sh drives it):
//
//	portalbench pages   -base URL -token T -admin-email E -admin-password P [-n 200]
//	portalbench approve -base URL -token T [-n 1000]
//
// pages signs in as the admin and as seeded developer 0, then requests every
// page and Admin API list n times one after the other and prints one JSON
// line per path with p50 and p99 in milliseconds. approve approves n pending
// subscriptions at once through the Admin API, then checks that every one is
// approved, the outbox drains and each is on its API's whitelist in etcd.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: portalbench pages|approve [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	base := fs.String("base", "http://127.0.0.1:18480", "devportal URL")
	token := fs.String("token", "", "Admin API token")
	email := fs.String("admin-email", "", "admin sign-in e-mail")
	password := fs.String("admin-password", "", "admin password")
	devEmail := fs.String("dev-email", "dev-00000@seed.example", "seeded developer's e-mail (organization 0)")
	devPassword := fs.String("dev-password", "seed-pass-123", "seeded developers' password")
	n := fs.Int("n", 200, "requests per path (pages) or approvals (approve)")
	group := fs.String("group", "default", "gateway group")
	etcd := fs.String("etcd", "http://127.0.0.1:23791", "the group's etcd, to read the approved applications' whitelists")
	prefix := fs.String("prefix", "/apisix", "the group's etcd prefix")
	_ = fs.Parse(os.Args[2:])
	c := &client{base: strings.TrimRight(*base, "/"), token: *token}
	var err error
	switch os.Args[1] {
	case "pages":
		err = pages(c, *email, *password, *devEmail, *devPassword, *group, *n)
	case "approve":
		err = approve(c, *group, *n, *etcd, *prefix)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portalbench:", err)
		os.Exit(1)
	}
}

type client struct {
	base, token string
}

// api GETs an Admin API path into v.
func (c *client) api(method, path string, v any) (int, error) {
	req, _ := http.NewRequest(method, c.base+path, nil)
	req.Header.Set("X-API-KEY", c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	if v != nil {
		return resp.StatusCode, json.Unmarshal(body, v)
	}
	return resp.StatusCode, nil
}

type list struct {
	List []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"list"`
	Total int64 `json:"total"`
}

func (c *client) first(path string) (string, error) {
	var l list
	if _, err := c.api("GET", path, &l); err != nil {
		return "", err
	}
	if len(l.List) == 0 {
		return "", fmt.Errorf("%s: empty list (is the database seeded?)", path)
	}
	return l.List[0].ID, nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn is a browser session signed in as email.
func (c *client) signIn(email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(c.base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, errors.New("no CSRF token on /login")
	}
	resp, err = hc.PostForm(c.base+"/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in of %s: status %d", email, resp.StatusCode)
	}
	return hc, nil
}

// result is one path's latencies.
type result struct {
	Path  string  `json:"path"`
	N     int     `json:"n"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Bytes int     `json:"bytes"`
}

func measure(label string, n int, do func() (int, int, error)) (result, error) {
	for range 3 { // warm: the first views fill caches (and the group's drift report)
		if _, _, err := do(); err != nil {
			return result{}, fmt.Errorf("%s: %w", label, err)
		}
	}
	d := make([]float64, n)
	size := 0
	for i := range n {
		t0 := time.Now()
		status, b, err := do()
		d[i] = float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", label, err)
		}
		if status != http.StatusOK {
			return result{}, fmt.Errorf("%s: status %d", label, status)
		}
		size = b
	}
	sort.Float64s(d)
	pct := func(p float64) float64 { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return result{Path: label, N: n, P50: pct(0.50), P99: pct(0.99), Max: d[len(d)-1], Bytes: size}, nil
}

func get(hc *http.Client, u string, header http.Header) (int, int, error) {
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, len(b), nil
}

func pages(c *client, email, password, devEmail, devPassword, group string, n int) error {
	api, err := c.first("/api/v1/portal/apis?search=" + url.QueryEscape("Seed API 0000"))
	if err != nil {
		return err
	}
	org, err := c.first("/api/v1/organizations?search=seed-org-0000")
	if err != nil {
		return err
	}
	app, err := c.first("/api/v1/organizations/" + org + "/applications?limit=1")
	if err != nil {
		return err
	}
	admin, err := c.signIn(email, password)
	if err != nil {
		return err
	}
	dev, err := c.signIn(devEmail, devPassword)
	if err != nil {
		return err
	}
	r := strings.NewReplacer("{api}", api, "{app}", app, "{org}", org, "{group}", group)
	adminPages := []string{
		"/", "/apis/{api}",
		"/admin", "/admin/subscriptions", "/admin/subscriptions?status=all", "/admin/subscriptions?status=approved&api={api}",
		"/admin/subscriptions?status=all&app={app}", "/admin/subscriptions?status=pending&page=400",
		"/admin/apis", "/admin/apis/{api}", "/admin/orgs", "/admin/orgs/{org}", "/admin/apps/{app}",
		"/admin/audit", "/admin/groups", "/admin/groups/{group}", "/admin/groups/{group}/services",
		"/admin/groups/{group}/services/seed-0000", "/admin/templates", "/admin/plugin-templates",
	}
	devPages := []string{"/apps", "/apps/{app}", "/apis/{api}", "/orgs/{org}/members"}
	apiLists := []string{
		"/api/v1/gateway_groups", "/api/v1/gateway_groups/{group}/services", "/api/v1/service_templates", "/api/v1/plugin_templates",
		"/api/v1/portal/apis", "/api/v1/organizations", "/api/v1/organizations/{org}/developers",
		"/api/v1/organizations/{org}/applications", "/api/v1/subscriptions", "/api/v1/subscriptions?status=pending",
		"/api/v1/subscriptions?api_id={api}&status=approved", "/api/v1/subscriptions?offset=9000", "/api/v1/audit",
	}
	enc := json.NewEncoder(os.Stdout)
	run := func(prefix string, hc *http.Client, paths []string, header http.Header) error {
		for _, p := range paths {
			res, err := measure(prefix+p, n, func() (int, int, error) { return get(hc, c.base+r.Replace(p), header) })
			if err != nil {
				return err
			}
			if err := enc.Encode(res); err != nil {
				return err
			}
		}
		return nil
	}
	if err := run("admin ", admin, adminPages, nil); err != nil {
		return err
	}
	if err := run("developer ", dev, devPages, nil); err != nil {
		return err
	}
	return run("api ", http.DefaultClient, apiLists, http.Header{"X-Api-Key": {c.token}})
}

// approve approves n pending subscriptions at once and checks none is lost.
func approve(c *client, group string, n int, etcd, prefix string) error {
	var ids []string
	for len(ids) < n {
		var l list
		if _, err := c.api("GET", fmt.Sprintf("/api/v1/subscriptions?status=pending&limit=%d&offset=%d", min(500, n-len(ids)), len(ids)), &l); err != nil {
			return err
		}
		if len(l.List) == 0 {
			break
		}
		for _, s := range l.List {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) < n {
		return fmt.Errorf("only %d pending subscriptions", len(ids))
	}
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = n
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	var locked int
	start := time.Now()
	for _, id := range ids {
		wg.Go(func() {
			status, err := c.api("POST", "/api/v1/subscriptions/"+id+"/approve", nil)
			mu.Lock()
			defer mu.Unlock()
			codes[status]++
			if err != nil && strings.Contains(err.Error(), "locked") {
				locked++
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	// Every one approved?
	approved := 0
	type sub struct {
		Status string `json:"status"`
		AppID  string `json:"application_id"`
		APIID  string `json:"api_id"`
	}
	var subs []sub
	for _, id := range ids {
		var s sub
		if _, err := c.api("GET", "/api/v1/subscriptions/"+id, &s); err != nil {
			return err
		}
		if s.Status == "approved" {
			approved++
		}
		subs = append(subs, s)
	}
	// The outbox drains, and etcd's whitelists hold exactly the approved.
	drainStart := time.Now()
	var pending struct {
		Pending int64 `json:"pending"`
	}
	for {
		if _, err := c.api("GET", "/api/v1/outbox", &pending); err != nil {
			return err
		}
		if pending.Pending == 0 || time.Since(drainStart) > 5*time.Minute {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	// Each approved application is on its API's whitelist in etcd (a whole
	// service's API: the service key's consumer-restriction).
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	whitelists := map[string]map[string]bool{}
	missing := 0
	for _, s := range subs {
		wl, ok := whitelists[s.APIID]
		if !ok {
			var a struct {
				ServiceID string `json:"service_id"`
				RouteID   string `json:"route_id"`
			}
			if _, err := c.api("GET", "/api/v1/portal/apis/"+s.APIID, &a); err != nil {
				return err
			}
			key := prefix + "/services/" + a.ServiceID
			if a.RouteID != "" {
				key = prefix + "/routes/" + a.RouteID
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			resp, err := cli.Get(ctx, key)
			cancel()
			if err != nil {
				return err
			}
			var v struct {
				Plugins struct {
					CR struct {
						Whitelist []string `json:"whitelist"`
					} `json:"consumer-restriction"`
				} `json:"plugins"`
			}
			if len(resp.Kvs) > 0 {
				_ = json.Unmarshal(resp.Kvs[0].Value, &v)
			}
			wl = map[string]bool{}
			for _, name := range v.Plugins.CR.Whitelist {
				wl[name] = true
			}
			whitelists[s.APIID] = wl
		}
		if s.Status == "approved" && !wl["app_"+s.AppID] {
			missing++
		}
	}
	out := map[string]any{"approvals": n, "took_ms": took.Milliseconds(), "statuses": codes, "database_locked": locked,
		"approved_after": approved, "outbox_left": pending.Pending, "outbox_drained_ms": drained.Milliseconds(),
		"apis_checked_in_etcd": len(whitelists), "approved_missing_from_whitelist": missing}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return err
	}
	if approved != n || locked > 0 || codes[200] != n || missing != 0 || pending.Pending != 0 {
		return fmt.Errorf("approvals lost or failed: %v", out)
	}
	return nil
}
