package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/extractors"
	"github.com/gofiber/fiber/v3/middleware/csrf"
	"github.com/gofiber/fiber/v3/middleware/limiter"
	"github.com/gofiber/fiber/v3/middleware/session"

	"devportal/internal/apperr"
	"devportal/views/components"
	"devportal/views/site"
)

// Web session and sign-in limits.
const (
	sessionIdle     = 12 * time.Hour
	sessionAbsolute = 7 * 24 * time.Hour
	loginMax        = 10
	loginWindow     = 5 * time.Minute
)

// cookieNames are the site's cookies; with Secure cookies they take the
// __Host- prefix (Secure, Path=/, no Domain: no subdomain can set them).
func cookieNames(secure bool) (sess, token string) {
	if secure {
		return "__Host-devportal_session", "__Host-devportal_csrf"
	}
	return "devportal_session", "devportal_csrf"
}

// webMiddleware is what every site request goes through: the database-backed
// session, the signed-in user (loaded first, so that a refused form's page
// still shows who is signed in), and CSRF protection of every unsafe method.
func (h *handler) webMiddleware() []any {
	secure := h.cfg.Site.SecureCookies
	sessCookie, csrfCookie := cookieNames(secure)
	skip := func(c fiber.Ctx) bool { return !isWebRequest(c) }
	sessMW, store := session.NewWithStore(session.Config{
		Storage:         h.accounts.Sessions(),
		Next:            skip,
		Extractor:       extractors.FromCookie(sessCookie),
		CookiePath:      "/",
		CookieHTTPOnly:  true,
		CookieSecure:    secure,
		CookieSameSite:  fiber.CookieSameSiteLaxMode,
		IdleTimeout:     sessionIdle,
		AbsoluteTimeout: sessionAbsolute,
		ErrorHandler: func(c fiber.Ctx, err error) {
			h.log.Error("session: save failed", "path", c.Path(), "err", err)
		},
	})
	csrfMW := csrf.New(csrf.Config{
		Session:           store,
		Next:              skip,
		CookieName:        csrfCookie,
		CookiePath:        "/",
		CookieHTTPOnly:    true,
		CookieSecure:      secure,
		CookieSameSite:    fiber.CookieSameSiteLaxMode,
		CookieSessionOnly: true,
		IdleTimeout:       sessionIdle,
		Extractor:         extractors.Chain(extractors.FromForm("_csrf"), extractors.FromHeader(csrf.HeaderName)),
		ErrorHandler: func(c fiber.Ctx, err error) error {
			return &requestError{Status: fiber.StatusForbidden, Code: "csrf",
				Message: "This form has expired or did not come from this site. Go back, reload the page and try again."}
		},
	})
	return []any{h.webHeaders, sessMW, h.loadUser, csrfMW}
}

// webHeaders sets the security headers of HTML pages.
func (h *handler) webHeaders(c fiber.Ctx) error {
	if !isWebRequest(c) {
		return c.Next()
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// loadUser puts the session's user into Locals (see currentUser).
func (h *handler) loadUser(c fiber.Ctx) error {
	if !isWebRequest(c) {
		return c.Next()
	}
	sess := session.FromContext(c)
	if sess == nil {
		return c.Next()
	}
	uid, _ := sess.Get(sessUserID).(string)
	if uid == "" {
		return c.Next()
	}
	user, err := h.accounts.UserByID(c.Context(), uid)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		sess.Delete(sessUserID) // the account is gone
	case err != nil:
		return err
	default:
		c.Locals(webUserKey{}, &user)
	}
	return c.Next()
}

// requireAdminPage guards /admin: anonymous visitors go to the sign-in page
// (and come back after it), signed-in non-admins get 403. It is the one
// place of the admin side's authorization.
func (h *handler) requireAdminPage(c fiber.Ctx) error {
	u := currentUser(c)
	if u == nil {
		next := "/admin"
		if c.Method() == fiber.MethodGet {
			next = string([]byte(c.OriginalURL()))
		}
		return redirect(c, "/login?next="+url.QueryEscape(next))
	}
	if !u.IsAdmin {
		return fmt.Errorf("the admin side is for admins: %w", apperr.ErrForbidden)
	}
	return c.Next()
}

// loginLimiters limit sign-in attempts per IP and per e-mail; successful
// attempts do not count.
func (h *handler) loginLimiters() []any {
	reached := func(c fiber.Ctx) error {
		return render(c, fiber.StatusTooManyRequests, site.Login(site.LoginProps{
			Layout: layout(c, "Sign in", ""),
			Email:  formValue(c, "email"),
			Next:   safeNext(formValue(c, "next"), ""),
			Error:  fmt.Sprintf("Too many sign-in attempts. Wait %d minutes, then try again.", int(loginWindow/time.Minute)),
		}))
	}
	perIP := limiter.New(limiter.Config{
		Max: loginMax, Expiration: loginWindow, SkipSuccessfulRequests: true, LimitReached: reached,
		KeyGenerator: func(c fiber.Ctx) string { return "login-ip:" + c.IP() },
	})
	perEmail := limiter.New(limiter.Config{
		Max: loginMax, Expiration: loginWindow, SkipSuccessfulRequests: true, LimitReached: reached,
		KeyGenerator: func(c fiber.Ctx) string {
			return "login-email:" + strings.ToLower(formValue(c, "email"))
		},
	})
	return []any{perIP, perEmail}
}

// loginPage shows the sign-in form.
func (h *handler) loginPage(c fiber.Ctx) error {
	next := safeNext(queryValue(c, "next"), "")
	if u := currentUser(c); u != nil {
		return redirect(c, safeNext(next, homeOf(u.IsAdmin)))
	}
	return render(c, fiber.StatusOK, site.Login(site.LoginProps{Layout: layout(c, "Sign in", ""), Next: next, Providers: h.providers()}))
}

func homeOf(admin bool) string {
	if admin {
		return "/admin"
	}
	return "/"
}

// login signs in with e-mail and password; the session gets a new ID.
func (h *handler) login(c fiber.Ctx) error {
	email, password, next := formValue(c, "email"), c.FormValue("password"), safeNext(formValue(c, "next"), "")
	user, err := h.accounts.CheckPassword(c.Context(), email, password)
	if errors.Is(err, apperr.ErrNotFound) || (err == nil && password == "") {
		return render(c, fiber.StatusUnauthorized, site.Login(site.LoginProps{
			Layout: layout(c, "Sign in", ""), Email: email, Next: next,
			Error: "The e-mail or the password is wrong.",
		}))
	}
	if err != nil {
		return err
	}
	sess := session.FromContext(c)
	if sess == nil {
		return errors.New("web: no session")
	}
	if err := sess.Regenerate(); err != nil {
		return err
	}
	// A new form token too: the one of the signed-out page is not reused.
	if ch := csrf.HandlerFromContext(c); ch != nil {
		if err := ch.DeleteToken(c); err != nil {
			return err
		}
	}
	sess.Set(sessUserID, user.ID)
	flash(c, components.FlashSuccess, "Signed in as "+user.Email+".")
	return redirect(c, safeNext(next, homeOf(user.IsAdmin)))
}

// logout ends the session: its data is dropped and its ID replaced.
func (h *handler) logout(c fiber.Ctx) error {
	if sess := session.FromContext(c); sess != nil {
		if err := sess.Reset(); err != nil {
			return err
		}
	}
	flash(c, components.FlashInfo, "Signed out.")
	return redirect(c, "/login")
}
