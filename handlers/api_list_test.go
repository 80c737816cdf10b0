package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"devportal/gateway"
	"devportal/models"
)

// listBody is a list answer, its rows kept as JSON.
type listBody struct {
	List  []json.RawMessage `json:"list"`
	Total int64             `json:"total"`
	Next  *string           `json:"next"`
}

// walkList reads every page of path by cursor and by offset, limit rows at
// a time, and fails unless both return the same rows, each once; it returns
// the rows.
func walkList(t *testing.T, e *portalEnv, path string, limit int) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	get := func(query string) listBody {
		t.Helper()
		r := e.call(t, "GET", path+sep+query, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s%s%s = %d %s", path, sep, query, r.Status, r.Body)
		}
		var b listBody
		r.JSON(t, &b)
		if b.Next != nil && *b.Next == "" {
			t.Fatalf("GET %s%s%s: an empty next, want it left out: %s", path, sep, query, r.Body)
		}
		return b
	}
	var byCursor, byOffset []string
	seen := map[string]bool{}
	for q := fmt.Sprintf("limit=%d", limit); ; {
		b := get(q)
		for _, row := range b.List {
			if seen[string(row)] {
				t.Fatalf("%s: a row twice by cursor: %s", path, row)
			}
			seen[string(row)] = true
			byCursor = append(byCursor, string(row))
		}
		if b.Next == nil {
			break
		}
		if len(b.List) != limit {
			t.Fatalf("%s: a page of %d rows with a next, want %d", path, len(b.List), limit)
		}
		q = fmt.Sprintf("limit=%d&after=%s", limit, url.QueryEscape(*b.Next))
	}
	var total int64
	for off := 0; ; off += limit {
		b := get(fmt.Sprintf("offset=%d&limit=%d", off, limit))
		total = b.Total
		for _, row := range b.List {
			byOffset = append(byOffset, string(row))
		}
		if b.Next == nil {
			break
		}
	}
	if int64(len(byCursor)) != total || !slices.Equal(byCursor, byOffset) {
		t.Fatalf("%s (total %d): by cursor %d rows:\n%s\nby offset %d rows:\n%s", path, total,
			len(byCursor), strings.Join(byCursor, "\n"), len(byOffset), strings.Join(byOffset, "\n"))
	}
	if len(byCursor) <= limit {
		t.Fatalf("%s: %d rows, one page of %d: the test walks nothing", path, len(byCursor), limit)
	}
	return byCursor
}

// TestListsByCursor: every Admin API list pages by ?after= as it does by
// offset, answers next on each page but the last, and answers 400 for a bad
// cursor or a cursor with an offset or page.
func TestListsByCursor(t *testing.T) {
	eachPortal(t, func(t *testing.T, e *portalEnv) {
		for i := range 3 {
			createGroupNamed(t, e, fmt.Sprintf("list-g%d", i))
			e.must(t, 201, "POST", "/api/v1/plugin_templates", map[string]any{"name": fmt.Sprintf("list-p%d", i),
				"plugins": map[string]any{"cors": map[string]any{}}}, nil)
		}
		// Service templates sharing a name: ordered by name, then ID.
		for i := range 3 {
			if _, err := e.w.Gateway.CreateTemplate(e.w.Ctx, models.ServiceSpec{Name: "same", Type: gateway.TypeHTTP,
				Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: 1, Weight: 1}}},
				Routes:   []models.RouteSpec{{Name: "r", Paths: []string{fmt.Sprintf("/same%d", i)}}}}); err != nil {
				t.Fatal(err)
			}
		}
		apis := []string{}
		for i := range 5 {
			apis = append(apis, e.newAPI(t, fmt.Sprintf("list%d", i), fmt.Sprintf("/list%d", i), 8081, "key-auth", "manual", true).ID)
		}
		// A service with history: each publish keeps the one before.
		svc := e.w.PublishService(t, "hist", "/hist", "127.0.0.1", 1)
		for v := 2; v <= 5; v++ {
			if _, err := e.w.Gateway.Publish(e.w.Ctx, svc.TemplateID, gateway.PublishInput{GatewayGroupID: e.w.Group.ID, Version: fmt.Sprint(v)}); err != nil {
				t.Fatal(err)
			}
		}
		org := e.newOrg(t)
		for i := range 4 {
			e.newOrg(t)
			e.must(t, 201, "POST", "/api/v1/organizations/"+org.ID+"/developers", map[string]any{
				"email": fmt.Sprintf("list%d@example.com", i), "name": fmt.Sprintf("Dev %d", i)}, nil)
		}
		var appIDs []string
		for range 5 {
			appIDs = append(appIDs, e.newApp(t, org.ID).ID)
		}
		// 30 subscriptions, five to a created_at.
		base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		var subs []models.Subscription
		for i := range 30 {
			subs = append(subs, models.Subscription{ID: fmt.Sprintf("sub%02d", (i*7)%30), AppID: appIDs[i%5], APIID: apis[i/6%5],
				OrgID: org.ID, Status: "rejected", CreatedAt: base.Add(time.Duration(i/5) * time.Second), UpdatedAt: base})
		}
		if err := e.w.DB.Create(&subs).Error; err != nil {
			t.Fatal(err)
		}

		lists := []string{
			"/api/v1/gateway_groups", "/api/v1/plugin_templates", "/api/v1/service_templates",
			"/api/v1/gateway_groups/" + e.w.Group.ID + "/services",
			"/api/v1/gateway_groups/" + e.w.Group.ID + "/services/" + svc.ID + "/history",
			"/api/v1/portal/apis", "/api/v1/portal/apis?published=true", "/api/v1/organizations",
			"/api/v1/organizations/" + org.ID + "/developers", "/api/v1/organizations/" + org.ID + "/applications",
			"/api/v1/subscriptions", "/api/v1/subscriptions?application_id=" + appIDs[0], "/api/v1/subscriptions?status=rejected",
		}
		for _, path := range lists {
			walkList(t, e, path, 2)
		}
		// Subscriptions, newest first: by time, then ID, both descending.
		var all struct {
			List []struct {
				ID        string    `json:"id"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"list"`
		}
		e.must(t, 200, "GET", "/api/v1/subscriptions?limit=100", nil, &all)
		if len(all.List) != 30 {
			t.Fatalf("%d subscriptions, want 30", len(all.List))
		}
		for i := 1; i < len(all.List); i++ {
			a, b := all.List[i-1], all.List[i]
			if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
				t.Fatalf("subscriptions out of order at %d: %+v %+v", i, a, b)
			}
		}
		// A page by page number answers a next that continues it.
		var p2, p3 listBody
		e.must(t, 200, "GET", "/api/v1/subscriptions?page=2&page_size=10", nil, &p2)
		e.must(t, 200, "GET", "/api/v1/subscriptions?limit=10&after="+url.QueryEscape(*p2.Next), nil, &p3)
		var first struct {
			ID string `json:"id"`
		}
		json.Unmarshal(p3.List[0], &first)
		if len(p3.List) != 10 || first.ID != all.List[20].ID || p3.Next != nil {
			t.Fatalf("after page 2: %d rows from %s (next %v), want the last 10 from %s", len(p3.List), first.ID, p3.Next, all.List[20].ID)
		}

		// Bad input: 400 with a JSON error naming after.
		var groups listBody
		e.must(t, 200, "GET", "/api/v1/gateway_groups?limit=1", nil, &groups)
		cursor := url.QueryEscape(*groups.Next)
		for _, path := range []string{"/api/v1/subscriptions", "/api/v1/organizations/" + org.ID + "/applications", "/api/v1/portal/apis", "/api/v1/gateway_groups"} {
			for _, q := range []string{"after=" + cursor + "&offset=0", "after=" + cursor + "&page=1", "after=" + cursor + "&offset=2&limit=1"} {
				r := e.call(t, "GET", path+"?"+q, nil)
				wantError(t, r, 400, "invalid_input", "after")
				if _, msg, _ := r.Error(t); !strings.Contains(msg, "not both") {
					t.Fatalf("%s?%s: %s, want a message saying not both", path, q, r.Body)
				}
			}
			for _, bad := range []string{"x", "%21%21", "W10", "eyJhIjoxfQ", "WzEsMiwzLDRd", "WyJ1bmNsb3NlZCJd" + "x", "WyJcdTAwMDAiXQ", "WyJcdTAwMDAiLCJcdTAwMDAiXQ"} {
				r := e.call(t, "GET", path+"?after="+bad, nil)
				wantError(t, r, 400, "invalid_input", "after")
				if _, _, fields := r.Error(t); fields["after"] != "invalid cursor" {
					t.Fatalf("%s?after=%s: %s, want invalid cursor", path, bad, r.Body)
				}
			}
		}
		// A cursor from another list is refused or pages that list; never 500.
		var subsPage listBody
		e.must(t, 200, "GET", "/api/v1/subscriptions?limit=1", nil, &subsPage)
		wantError(t, e.call(t, "GET", "/api/v1/portal/apis?after="+url.QueryEscape(*subsPage.Next), nil), 400, "invalid_input", "after")
		wantError(t, e.call(t, "GET", "/api/v1/subscriptions?after="+cursor, nil), 400, "invalid_input", "after")
	})
}

// createGroupNamed creates a gateway group with its own prefix.
func createGroupNamed(t *testing.T, e *portalEnv, name string) {
	t.Helper()
	e.must(t, 201, "POST", "/api/v1/gateway_groups", map[string]any{"name": name + "-" + e.w.Group.ID, "prefix": "/" + name + "-" + e.w.Group.ID}, nil)
}
