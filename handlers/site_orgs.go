package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/session"

	"devportal/internal/apperr"
	"devportal/internal/listing"
	"devportal/views/components"
	"devportal/views/site"
)

// orgSwitch makes another of the developer's organizations the current one.
func (h *handler) orgSwitch(c fiber.Ctx) error {
	want := formValue(c, "org_id")
	list, _, err := h.userOrgs(c)
	if err != nil {
		return err
	}
	for _, o := range list {
		if o.ID == want {
			if sess := session.FromContext(c); sess != nil {
				sess.Set(sessOrg, o.ID)
			}
			flash(c, components.FlashInfo, "Now working in "+o.Name+".")
			return redirect(c, "/apps")
		}
	}
	return apperr.NotFound("organization", want)
}

// membersPage is /orgs/{id}/members, for the organization's admins.
func (h *handler) membersPage(c fiber.Ctx) error {
	return h.renderMembers(c, strings.Clone(c.Params("id")), fiber.StatusOK, "", "member", nil)
}

func (h *handler) renderMembers(c fiber.Ctx, orgID string, status int, email, role string, errs components.Errors) error {
	if err := h.cfg.Orgs.Authorize(c, webActor(c), orgID, true); err != nil {
		return err
	}
	org, err := h.cfg.Orgs.Get(c, orgID)
	if err != nil {
		return err
	}
	members, err := h.cfg.Orgs.Members(c, webActor(c), orgID, listing.Options{Limit: 500})
	if err != nil {
		return err
	}
	invs, err := h.cfg.Orgs.Invitations(c, webActor(c), orgID)
	if err != nil {
		return err
	}
	p := site.MembersProps{Layout: h.siteLayout(c, "Members of "+org.Name, ""), Org: site.Org{ID: org.ID, Name: org.Name},
		Email: email, Role: role, Errors: errs, Self: currentUser(c).ID}
	for _, m := range members.List {
		p.Members = append(p.Members, site.Member{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, JoinedAt: m.JoinedAt})
	}
	for _, i := range invs {
		p.Invitations = append(p.Invitations, site.Invitation{Email: i.Email, Role: i.Role, CreatedAt: i.CreatedAt})
	}
	return render(c, status, site.Members(p))
}

// memberInvite invites someone by e-mail.
func (h *handler) memberInvite(c fiber.Ctx) error {
	orgID := strings.Clone(c.Params("id"))
	email, role := formValue(c, "email"), formValue(c, "role")
	joined, err := h.cfg.Orgs.Invite(c, webActor(c), orgID, email, role)
	if err != nil {
		if errs := fieldErrors(err); errs != nil {
			return h.renderMembers(c, orgID, fiber.StatusUnprocessableEntity, email, role, errs)
		}
		if msg, ok := userMessage(err); ok {
			return h.renderMembers(c, orgID, fiber.StatusUnprocessableEntity, email, role, components.Errors{"email": msg})
		}
		return err
	}
	if joined {
		flash(c, components.FlashSuccess, email+" is a member now.")
	} else {
		flash(c, components.FlashSuccess, email+" is invited and joins on signing up.")
	}
	return redirect(c, "/orgs/"+orgID+"/members")
}

// memberRemove removes a member (after the page's confirmation).
func (h *handler) memberRemove(c fiber.Ctx) error {
	orgID, userID := strings.Clone(c.Params("id")), strings.Clone(c.Params("uid"))
	if err := h.cfg.Orgs.RemoveMember(c, webActor(c), orgID, userID); err != nil {
		if msg, ok := userMessage(err); ok {
			flash(c, components.FlashError, msg)
			return redirect(c, "/orgs/"+orgID+"/members")
		}
		return err
	}
	flash(c, components.FlashSuccess, "Member removed.")
	return redirect(c, "/orgs/"+orgID+"/members")
}
