package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/session"

	"devportal/models"
	"devportal/portal/accounts"
	"devportal/views/components"
	"devportal/views/site"
)

// signupPage shows the sign-up form.
func (h *handler) signupPage(c fiber.Ctx) error {
	if currentUser(c) != nil {
		return redirect(c, "/apps")
	}
	return render(c, fiber.StatusOK, site.Signup(site.SignupProps{Layout: h.siteLayout(c, "Create an account", ""), Providers: h.providers()}))
}

// signup creates an account with a password, signs it in and sends it to
// its applications. Each bad field is shown beside the field.
func (h *handler) signup(c fiber.Ctx) error {
	in := accounts.UserInput{Email: formValue(c, "email"), Name: formValue(c, "name"), Password: c.FormValue("password")}
	in.Password = string([]byte(in.Password))
	user, err := h.cfg.Signup.SignUp(c, in)
	if err != nil {
		errs := fieldErrors(err)
		if errs == nil {
			msg, ok := userMessage(err)
			if !ok {
				return err
			}
			errs = components.Errors{"email": msg}
		}
		for k, v := range errs {
			errs[k] = upperFirst(v) + "."
		}
		return render(c, fiber.StatusUnprocessableEntity, site.Signup(site.SignupProps{
			Layout: h.siteLayout(c, "Create an account", ""), Email: in.Email, Name: in.Name, Errors: errs, Providers: h.providers(),
		}))
	}
	if err := h.startSession(c, user); err != nil {
		return err
	}
	flash(c, components.FlashSuccess, "Welcome! Create an application to get your API key.")
	return redirect(c, "/apps")
}

// startSession signs user in on a fresh session ID.
func (h *handler) startSession(c fiber.Ctx, user models.User) error {
	sess := session.FromContext(c)
	if sess == nil {
		return errors.New("web: no session")
	}
	if err := sess.Regenerate(); err != nil {
		return err
	}
	sess.Set(sessUserID, user.ID)
	return nil
}
