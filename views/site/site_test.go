package site_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"devportal/views/site"
)

func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestPoliciesSayWhatTheyMean(t *testing.T) {
	cases := []struct {
		api  site.API
		want []string
		not  []string
	}{
		{site.API{AuthNeeded: true, Approval: "manual", RateLimit: "5 requests per 1 second"},
			[]string{"API key required", "Approval: manual", "Rate limit: 5 requests per 1 second per application"}, []string{"Open"}},
		{site.API{AuthNeeded: true, Approval: "auto"}, []string{"Approval: automatic", "No rate limit"}, nil},
		{site.API{}, []string{"Open: no key needed", "No rate limit"}, []string{"Approval"}},
	}
	for _, c := range cases {
		text := renderDoc(t, site.Policies(c.api)).Find(`[data-testid="policies"]`).Text()
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%+v: %q lacks %q", c.api, text, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(text, n) {
				t.Errorf("%+v: %q has %q", c.api, text, n)
			}
		}
	}
}

func TestOperationShowsParametersBodyAndResponses(t *testing.T) {
	op := site.Operation{Method: "POST", Path: "/pets/{id}", Summary: "Update a pet",
		Params:    []site.Param{{Name: "id", In: "path", Required: true, Type: "integer"}},
		Body:      &site.Body{ContentType: "application/json", Required: true, Schema: "Pet (object)\n  name: string *required", Example: `{"name": "Rex"}`},
		Responses: []site.Response{{Code: "200", Description: "Updated"}, {Code: "404", Description: "No such pet"}}}
	doc := renderDoc(t, site.OperationView(op))
	if got := doc.Find(".method").Text(); got != "POST" {
		t.Errorf("method %q", got)
	}
	if got := doc.Find(`[data-testid="params"] tbody tr`).Length(); got != 1 {
		t.Errorf("%d parameter rows", got)
	}
	if got := doc.Find(`[data-testid="example"]`).Text(); got != `{"name": "Rex"}` {
		t.Errorf("example %q", got)
	}
	if got := doc.Find(`[data-testid="response"]`).Length(); got != 2 {
		t.Errorf("%d responses", got)
	}
}

func TestKeyHintIsTheActiveKey(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	a := site.App{Keys: []site.Key{{Hint: "dpk_old", Active: true, ExpiresAt: &exp}, {Hint: "dpk_new", Active: true}}}
	if a.KeyHint() != "dpk_new" {
		t.Fatalf("hint %q", a.KeyHint())
	}
	if (site.App{}).KeyHint() != "" {
		t.Fatal("a hint without keys")
	}
}
