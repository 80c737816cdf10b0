package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/session"
	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/openidConnect"

	"devportal/internal/apperr"
	"devportal/portal/accounts"
	"devportal/portal/secrets"
	"devportal/views/components"
)

// Session keys of an OAuth sign-in in progress.
const (
	sessOAuthProvider = "oauth_provider"
	sessOAuthState    = "oauth_state"
	sessOAuthSession  = "oauth_session"
	sessOAuthNext     = "oauth_next"
)

// oauthProviders builds the goth providers on first use (OIDC discovery
// needs the issuer to answer) and keeps them once built.
type oauthProviders struct {
	mu   sync.Mutex
	byID map[string]goth.Provider
}

var providerCache sync.Map // *handler → *oauthProviders

func (h *handler) oauthProvider(key string) (goth.Provider, error) {
	v, _ := providerCache.LoadOrStore(h, &oauthProviders{byID: map[string]goth.Provider{}})
	ps := v.(*oauthProviders)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.byID[key]; p != nil {
		return p, nil
	}
	base := strings.TrimRight(orDefaultStr(h.cfg.Site.BaseURL, "http://localhost:8080"), "/")
	callback := base + "/auth/" + key + "/callback"
	var p goth.Provider
	switch key {
	case "oidc":
		o := h.cfg.Site.OIDC
		if o.Issuer == "" || o.ClientID == "" {
			return nil, fiber.ErrNotFound
		}
		discovery := strings.TrimRight(o.Issuer, "/") + "/.well-known/openid-configuration"
		op, err := openidConnect.New(o.ClientID, o.ClientSecret, callback, discovery, "openid", "email", "profile")
		if err != nil {
			return nil, apperr.Unavailable("the identity provider", err)
		}
		// The ID token comes straight from the token endpoint and carries
		// sub, email and email_verified with the email scope; the userinfo
		// endpoint adds nothing we use (and some providers omit its sub).
		op.SkipUserInfoRequest = true
		p = op
	case "github":
		g := h.cfg.Site.GitHub
		if g.ClientID == "" {
			return nil, fiber.ErrNotFound
		}
		p = github.New(g.ClientID, g.ClientSecret, callback, "read:user", "user:email")
	default:
		return nil, fiber.ErrNotFound
	}
	ps.byID[key] = p
	return p, nil
}

// authBegin sends the browser to the identity provider; the state and the
// provider's session wait in our session until the callback.
func (h *handler) authBegin(c fiber.Ctx) error {
	key := strings.Clone(c.Params("provider"))
	p, err := h.oauthProvider(key)
	if err != nil {
		return err
	}
	state, err := randomState()
	if err != nil {
		return err
	}
	gs, err := p.BeginAuth(state)
	if err != nil {
		return apperr.Unavailable("the identity provider", err)
	}
	authURL, err := gs.GetAuthURL()
	if err != nil {
		return apperr.Unavailable("the identity provider", err)
	}
	sess := session.FromContext(c)
	if sess == nil {
		return errors.New("web: no session")
	}
	sess.Set(sessOAuthProvider, key)
	sess.Set(sessOAuthState, state)
	sess.Set(sessOAuthSession, gs.Marshal())
	sess.Set(sessOAuthNext, safeNext(queryValue(c, "next"), ""))
	return c.Redirect().Status(fiber.StatusSeeOther).To(authURL)
}

// authCallback finishes the sign-in: checks the state, exchanges the code,
// reads the user and signs in the linked or new account.
func (h *handler) authCallback(c fiber.Ctx) error {
	key := strings.Clone(c.Params("provider"))
	p, err := h.oauthProvider(key)
	if err != nil {
		return err
	}
	sess := session.FromContext(c)
	if sess == nil {
		return errors.New("web: no session")
	}
	wantKey, _ := sess.Get(sessOAuthProvider).(string)
	state, _ := sess.Get(sessOAuthState).(string)
	raw, _ := sess.Get(sessOAuthSession).(string)
	next, _ := sess.Get(sessOAuthNext).(string)
	for _, k := range []string{sessOAuthProvider, sessOAuthState, sessOAuthSession, sessOAuthNext} {
		sess.Delete(k)
	}
	fail := func(msg string) error {
		flash(c, components.FlashError, msg)
		return redirect(c, "/login")
	}
	if e := queryValue(c, "error"); e != "" {
		return fail("The sign-in was cancelled or refused by the identity provider (" + e + ").")
	}
	if wantKey != key || state == "" || raw == "" || !secrets.SameHash(queryValue(c, "state"), state) {
		return fail("This sign-in link has expired or did not start here. Try again.")
	}
	gs, err := p.UnmarshalSession(raw)
	if err != nil {
		return fail("This sign-in has expired. Try again.")
	}
	params := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) { params.Add(string(k), string(v)) })
	if _, err := gs.Authorize(p, params); err != nil {
		h.log.Warn("oauth: code exchange failed", "provider", key, "err", err)
		return fail("The identity provider did not confirm the sign-in. Try again.")
	}
	gu, err := p.FetchUser(gs)
	if err != nil {
		h.log.Warn("oauth: user fetch failed", "provider", key, "err", err)
		return fail("The identity provider did not tell who you are. Try again.")
	}
	ext := accounts.ExternalUser{Provider: key, Subject: gu.UserID, Email: gu.Email, Name: strings.TrimSpace(gu.Name),
		EmailVerified: key == "github" && gu.Email != ""}
	if key == "oidc" {
		ext.EmailVerified = claimTrue(gu.RawData["email_verified"])
	}
	if ext.Name == "" {
		ext.Name = strings.TrimSpace(gu.FirstName + " " + gu.LastName)
	}
	user, err := h.cfg.Signup.SignInExternal(c, ext)
	switch {
	case errors.Is(err, accounts.ErrUnverifiedEmail):
		return fail("Your identity provider has not verified the e-mail " + gu.Email + ", so it cannot sign you in here. Verify it there, or sign in with your password.")
	case err != nil:
		if msg, ok := userMessage(err); ok {
			return fail("Could not sign you in: " + msg)
		}
		return err
	}
	if err := h.startSession(c, user); err != nil {
		return err
	}
	flash(c, components.FlashSuccess, "Signed in as "+user.Email+".")
	return redirect(c, safeNext(next, "/apps"))
}

// claimTrue reads a boolean claim, which some providers send as a string.
func claimTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

func randomState() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
