package components_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"devportal/views/components"
)

func doc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFieldShowsItsError(t *testing.T) {
	d := doc(t, components.Field(components.FieldProps{Label: "Name", Name: "name", Value: `a "b" <c>`, Error: "is required"}))
	if v, _ := d.Find("input[name=name]").Attr("value"); v != `a "b" <c>` {
		t.Fatalf("value = %q", v)
	}
	if d.Find(`[data-testid="error-name"]`).Text() != "is required" || d.Find(".field.has-error").Length() != 1 {
		t.Fatal("error not beside the field")
	}
	if _, ok := d.Find("input").Attr("aria-invalid"); !ok {
		t.Fatal("no aria-invalid")
	}
	d = doc(t, components.Field(components.FieldProps{Label: "T", Name: "t", Type: "select", Value: "b",
		Options: []components.Option{{Value: "a", Label: "A"}, {Value: "b", Label: "B"}}}))
	if v, _ := d.Find("option[selected]").Attr("value"); v != "b" {
		t.Fatalf("selected = %q", v)
	}
	d = doc(t, components.Field(components.FieldProps{Label: "T", Name: "t", Type: "textarea", Value: "</textarea><script>"}))
	if d.Find("script").Length() != 0 || d.Find("textarea").Text() != "</textarea><script>" {
		t.Fatal("textarea value not escaped")
	}
}

func TestTableEmptyState(t *testing.T) {
	d := doc(t, components.Table(components.TableProps{TestID: "things", Headers: []string{"A"}, Empty: true,
		EmptyTitle: "No things", EmptyHref: "/things/new", EmptyLink: "Create a thing"}))
	if d.Find(`[data-testid="things"]`).Length() != 0 || d.Find(`[data-testid="things-empty"]`).Length() != 1 {
		t.Fatal("empty table rendered as a table")
	}
	if href, _ := d.Find(`[data-testid="things-empty"] a`).Attr("href"); href != "/things/new" {
		t.Fatalf("next step link = %q", href)
	}
}

func TestPagination(t *testing.T) {
	d := doc(t, components.Pagination(components.PaginationProps{BaseURL: "/x?search=a+b", Page: 2, PageSize: 20, Total: 45}))
	if !strings.Contains(d.Text(), "21–40 of 45") {
		t.Fatalf("text = %q", d.Text())
	}
	prev, _ := d.Find(`[data-testid="page-prev"]`).Attr("href")
	next, _ := d.Find(`[data-testid="page-next"]`).Attr("href")
	if prev != "/x?page=1&search=a+b" || next != "/x?page=3&search=a+b" {
		t.Fatalf("prev %q next %q", prev, next)
	}
	d = doc(t, components.Pagination(components.PaginationProps{BaseURL: "/x", Page: 1, PageSize: 20, Total: 3}))
	if d.Find("a").Length() != 0 {
		t.Fatal("links on a single page")
	}
}

func TestConfirmButtonWorksWithoutJS(t *testing.T) {
	d := doc(t, components.ConfirmButton(components.ConfirmProps{TestID: "del", Action: "/x/delete", CSRF: "tok", Label: "Delete",
		Message: "Really?", ReasonName: "reason", Hidden: []components.Hidden{{Name: "id", Value: "7"}}}))
	form := d.Find(`details[data-testid="del"] form[method=post]`)
	if a, _ := form.Attr("action"); a != "/x/delete" {
		t.Fatalf("action = %q", a)
	}
	if v, _ := form.Find(`input[name=_csrf]`).Attr("value"); v != "tok" {
		t.Fatal("no CSRF token")
	}
	if v, _ := form.Find(`input[name=id]`).Attr("value"); v != "7" || form.Find("textarea[name=reason]").Length() != 1 {
		t.Fatal("hidden value or reason missing")
	}
}
