package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/csrf"
	"github.com/gofiber/fiber/v3/middleware/session"

	"devportal/internal/apperr"
	"devportal/internal/listing"
	"devportal/models"
	"devportal/portal"
	"devportal/static"
	"devportal/views/components"
	"devportal/views/layouts"
	"devportal/views/site"
)

// Session keys of the site.
const (
	sessUserID = "uid"
	sessFlash  = "flash"
)

type webUserKey struct{}

// isWebPath tells whether a path belongs to the server-rendered site (HTML
// pages, sessions, CSRF) rather than the JSON API, static files or probes.
func isWebPath(p string) bool {
	for _, pre := range []string{"/api/", "/static/"} {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	return p != "/api" && p != "/healthz" && p != "/readyz"
}

// isWebRequest is isWebPath for a request. A request fasthttp could not
// read (a chunked body over the limit) reaches fiber's middleware and error
// handler reset to an empty "GET /" without even a Host header: it is not
// a page, so it gets no session and a JSON error.
func isWebRequest(c fiber.Ctx) bool {
	if len(c.Request().Header.Host()) == 0 && c.Request().Header.Len() == 0 {
		return false
	}
	return isWebPath(c.Path())
}

// render answers status with a templ component as HTML. It renders with c
// itself as the context (fiber.Ctx's Value reads Locals), not c.Context().
func render(c fiber.Ctx, status int, comp templ.Component) error {
	c.Status(status).Type("html", "utf-8")
	return comp.Render(c, c.Response().BodyWriter())
}

// currentUser is the signed-in user of a site request, or nil.
func currentUser(c fiber.Ctx) *models.User {
	u, _ := c.Locals(webUserKey{}).(*models.User)
	return u
}

// webActor is who a domain call acts for: the signed-in user of the site.
func webActor(c fiber.Ctx) portal.Actor {
	u := currentUser(c)
	if u == nil {
		return portal.Actor{}
	}
	return portal.Actor{UserID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin}
}

func viewUser(u *models.User) *components.CurrentUser {
	if u == nil {
		return nil
	}
	return &components.CurrentUser{ID: u.ID, Email: u.Email, Name: u.Name, IsAdmin: u.IsAdmin}
}

// csrfToken is the request's form token.
func csrfToken(c fiber.Ctx) string { return csrf.TokenFromContext(c) }

// layout is the layout props of a page: the user, the CSRF token and the
// flash messages waiting in the session (read once).
func layout(c fiber.Ctx, title, nav string) layouts.Props {
	p := layouts.Props{Title: title, Nav: nav, User: viewUser(currentUser(c)), CSRF: csrfToken(c), Flashes: popFlashes(c)}
	if strings.HasPrefix(c.Path(), "/admin") {
		p.Section = layouts.SectionAdmin
	} else {
		p.Section = layouts.SectionSite
	}
	return p
}

// flash queues a message for the next page of this session.
func flash(c fiber.Ctx, kind, text string) {
	sess := session.FromContext(c)
	if sess == nil {
		return
	}
	var list []components.Flash
	if s, ok := sess.Get(sessFlash).(string); ok && s != "" {
		_ = json.Unmarshal([]byte(s), &list)
	}
	list = append(list, components.Flash{Kind: kind, Text: text})
	b, _ := json.Marshal(list)
	sess.Set(sessFlash, string(b))
}

// popFlashes takes the queued messages out of the session.
func popFlashes(c fiber.Ctx) []components.Flash {
	sess := session.FromContext(c)
	if sess == nil {
		return nil
	}
	s, ok := sess.Get(sessFlash).(string)
	if !ok || s == "" {
		return nil
	}
	sess.Delete(sessFlash)
	var list []components.Flash
	_ = json.Unmarshal([]byte(s), &list)
	return list
}

// redirect answers 303 See Other to a local path (after a form).
func redirect(c fiber.Ctx, to string) error {
	return c.Redirect().Status(fiber.StatusSeeOther).To(to)
}

// formValue copies a form value out of fiber's reused buffer, trimmed.
func formValue(c fiber.Ctx, name string) string {
	return strings.TrimSpace(strings.Clone(c.FormValue(name)))
}

// formValues copies every value of a repeated form field (in order).
func formValues(c fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, strings.TrimSpace(string(v)))
	}
	if len(out) == 0 {
		if mf, err := c.MultipartForm(); err == nil && mf != nil {
			for _, v := range mf.Value[name] {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

// queryValue copies a query parameter.
func queryValue(c fiber.Ctx, name string) string {
	return strings.TrimSpace(strings.Clone(c.Query(name)))
}

// fieldErrors returns the field errors of a validation error, or nil.
func fieldErrors(err error) components.Errors {
	var ve *apperr.ValidationError
	if errors.As(err, &ve) {
		return components.Errors(ve.Fields)
	}
	return nil
}

// pageQuery is a list page's search and 1-based page from the query string.
type pageQuery struct {
	Search string
	Page   int
	Size   int
}

func readPageQuery(c fiber.Ctx) pageQuery {
	q := pageQuery{Search: queryValue(c, "search"), Page: 1, Size: listing.DefaultPageSize}
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 0 && n < 1_000_000 {
		q.Page = n
	}
	return q
}

func (q pageQuery) options() listing.Options {
	return listing.Options{Search: q.Search, Offset: (q.Page - 1) * q.Size, Limit: q.Size}
}

// pagination builds the pagination props of a list at base (with its filters).
func (q pageQuery) pagination(base string, total int64) components.PaginationProps {
	if q.Search != "" {
		base = withQuery(base, "search", q.Search)
	}
	return components.PaginationProps{BaseURL: base, Page: q.Page, PageSize: q.Size, Total: total}
}

// withQuery adds one query parameter to a local URL.
func withQuery(base, key, value string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	v := u.Query()
	v.Set(key, value)
	u.RawQuery = v.Encode()
	return u.String()
}

// safeNext returns next when it is a path on this site, else fallback: no
// scheme, no host, no protocol-relative "//" or "/\" tricks.
func safeNext(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return fallback
	}
	if strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// serveStatic answers /static/<hash>/<file> from the embedded files; the
// current hash is cached for a year, anything else briefly.
func serveStatic(c fiber.Ctx) error {
	body, ct, current, ok := static.Lookup(strings.TrimPrefix(c.Path(), static.Prefix))
	if !ok {
		return fiber.ErrNotFound
	}
	if current {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(body)
}

// renderErrorPage answers an error on a site path with an HTML page. 5xx
// pages say nothing of the cause.
func renderErrorPage(c fiber.Ctx, status int, body errorBody) error {
	title := http.StatusText(status)
	msg := body.Message
	switch {
	case status == fiber.StatusNotFound:
		title, msg = "Page not found", "There is nothing at this address. It may have been deleted, or the link is wrong."
		if body.Code == "not_found" && body.Message != "no such endpoint" {
			msg = upperFirst(body.Message) + "."
		}
	case status == fiber.StatusForbidden:
		title = "Not allowed"
		if msg == "" || msg == "Forbidden" {
			msg = "You are signed in, but this page is not for your account."
		}
	case status == fiber.StatusUnauthorized:
		title = "Sign-in needed"
	case status >= 500:
		title, msg = "Something went wrong", "The server could not finish this request. Try again in a moment; if it keeps failing, tell the portal's administrators."
		if status == fiber.StatusServiceUnavailable {
			msg = "A service the portal depends on did not answer. Try again in a moment."
		}
	}
	lp := layouts.Props{Title: title, User: viewUser(currentUser(c)), CSRF: csrfToken(c)}
	if strings.HasPrefix(c.Path(), "/admin") && currentUser(c) != nil && currentUser(c).IsAdmin {
		lp.Section = layouts.SectionAdmin
	}
	return render(c, status, site.Error(site.ErrorProps{Layout: lp, Status: status, Title: title, Message: msg}))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
