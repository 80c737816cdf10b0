package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/session"

	"devportal/internal/apperr"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
	"devportal/views/layouts"
	"devportal/views/site"
)

// sessOrg is the session key of the developer's current organization.
const sessOrg = "org"

// requireSignIn sends anonymous visitors to the sign-in page (and back).
func (h *handler) requireSignIn(c fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	next := "/apps"
	if c.Method() == fiber.MethodGet {
		next = string([]byte(c.OriginalURL()))
	}
	flash(c, "info", "Sign in to continue.")
	return redirect(c, "/login?next="+url.QueryEscape(next))
}

// siteLayout is the layout of a developer page: with the organization
// switcher for a signed-in developer.
func (h *handler) siteLayout(c fiber.Ctx, title, nav string) layouts.Props {
	p := layout(c, title, nav)
	if currentUser(c) == nil {
		return p
	}
	list, cur, err := h.userOrgs(c)
	if err != nil || len(list) == 0 {
		return p
	}
	p.OrgID = cur.ID
	for _, o := range list {
		p.Orgs = append(p.Orgs, layouts.OrgChoice{ID: o.ID, Name: o.Name, Admin: o.Role == orgs.RoleAdmin})
	}
	return p
}

// userOrgs lists the signed-in user's organizations and picks the current
// one: the session's when the user still belongs to it, else the first.
func (h *handler) userOrgs(c fiber.Ctx) ([]site.Org, site.Org, error) {
	u := currentUser(c)
	if u == nil {
		return nil, site.Org{}, apperr.ErrForbidden
	}
	if cached, ok := c.Locals(userOrgsKey{}).(userOrgsVal); ok {
		return cached.list, cached.cur, nil
	}
	mine, err := h.cfg.Orgs.ForUser(c, u.ID)
	if err != nil {
		return nil, site.Org{}, err
	}
	list := make([]site.Org, 0, len(mine))
	for _, m := range mine {
		list = append(list, site.Org{ID: m.ID, Name: m.Name, Role: m.Role})
	}
	var want string
	if sess := session.FromContext(c); sess != nil {
		want, _ = sess.Get(sessOrg).(string)
	}
	var cur site.Org
	for _, o := range list {
		if o.ID == want {
			cur = o
		}
	}
	if cur.ID == "" && len(list) > 0 {
		cur = list[0]
	}
	c.Locals(userOrgsKey{}, userOrgsVal{list, cur})
	return list, cur, nil
}

type userOrgsKey struct{}

type userOrgsVal struct {
	list []site.Org
	cur  site.Org
}

// currentOrg is the developer's current organization; a developer in none
// gets a page that says so.
func (h *handler) currentOrg(c fiber.Ctx) (site.Org, error) {
	_, cur, err := h.userOrgs(c)
	if err != nil {
		return site.Org{}, err
	}
	if cur.ID == "" {
		return site.Org{}, fmt.Errorf("you belong to no organization yet; ask an organization admin to invite you: %w", apperr.ErrForbidden)
	}
	return cur, nil
}

// userMessage is what a form shows for an error the user can fix (bad
// input, a conflict); ok is false for the others, which go to the error
// handler (404, 403, 5xx).
func userMessage(err error) (string, bool) {
	var ve *apperr.ValidationError
	if errors.As(err, &ve) {
		var parts []string
		for f, m := range ve.Fields {
			parts = append(parts, strings.ReplaceAll(f, "_", " ")+" "+m)
		}
		return upperFirst(strings.Join(parts, "; ")) + ".", true
	}
	if errors.Is(err, apperr.ErrConflict) {
		msg := err.Error()
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, apperr.ErrConflict.Error()), ": ")
		return upperFirst(msg) + ".", true
	}
	return "", false
}

func siteAPI(a catalog.API) site.API {
	v := site.API{ID: a.ID, Name: a.Name, Description: a.Description, Available: a.Available,
		AuthNeeded: a.NeedsSubscription(), Approval: a.Approval, Paths: a.URIs, Methods: a.Methods, HasDoc: a.HasDoc}
	if r := a.RateLimit; r != nil && r.Count > 0 {
		v.RateLimit = fmt.Sprintf("%d %s per %d %s", r.Count, countWord(r.Count, "request"), r.TimeWindow, countWord(r.TimeWindow, "second"))
	}
	return v
}

func countWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func siteApp(a apps.App) site.App {
	v := site.App{ID: a.ID, Name: a.Name, Description: a.Description, Consumer: a.Consumer, CreatedAt: a.CreatedAt}
	for _, k := range a.Keys {
		v.Keys = append(v.Keys, site.Key{Hint: k.Hint, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, Active: k.Active})
	}
	return v
}

func siteSub(s subscriptions.Subscription) site.Subscription {
	return site.Subscription{ID: s.ID, Status: s.Status, Reason: s.Reason, AppID: s.AppID, AppName: s.AppName,
		APIID: s.APIID, APIName: s.APIName, CreatedAt: s.CreatedAt, DecidedAt: s.DecidedAt}
}

// providers are the identity providers configured for the sign-in pages.
func (h *handler) providers() []site.Provider {
	var out []site.Provider
	if o := h.cfg.Site.OIDC; o.Issuer != "" && o.ClientID != "" {
		out = append(out, site.Provider{Key: "oidc", Name: "Sign in with " + orDefaultStr(o.Name, "single sign-on")})
	}
	if g := h.cfg.Site.GitHub; g.ClientID != "" {
		out = append(out, site.Provider{Key: "github", Name: "Sign in with " + orDefaultStr(g.Name, "GitHub")})
	}
	return out
}

func orDefaultStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
