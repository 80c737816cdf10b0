package handlers

import (
	"github.com/gofiber/fiber/v3"

	"devportal/portal/orgs"
)

// organizationRequest creates an organization.
type organizationRequest struct {
	Name string `json:"name" example:"acme"`
}

// developerRequest adds a developer to an organization: an existing account
// by e-mail, or a new one (with a password to sign in locally).
type developerRequest struct {
	Email    string `json:"email" example:"dev@example.com"`
	Name     string `json:"name" example:"Dana Developer"`
	Password string `json:"password,omitempty"`
	// Role is "member" (default) or "admin" of the organization.
	Role string `json:"role,omitempty" example:"member" enums:"member,admin"`
}

// listOrganizations godoc
//
//	@Summary	List organizations
//	@Tags		organizations
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		search		query		string	false	"filter by name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[orgs.Org]
//	@Failure	400,401		{object}	errorResponse
//	@Router		/organizations [get]
func (h *handler) listOrganizations(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.cfg.Orgs.List(c.Context(), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// createOrganization godoc
//
//	@Summary	Create an organization
//	@Tags		organizations
//	@Accept		json
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		body	body		organizationRequest	true	"the organization"
//	@Success	201		{object}	orgs.Org
//	@Failure	400,401	{object}	errorResponse
//	@Router		/organizations [post]
func (h *handler) createOrganization(c fiber.Ctx) error {
	var req organizationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	o, err := h.cfg.Orgs.Create(c.Context(), apiActor(c), req.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

// getOrganization godoc
//
//	@Summary	Get an organization
//	@Tags		organizations
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		oid		path		string	true	"organization ID"
//	@Success	200		{object}	orgs.Org
//	@Failure	401,404	{object}	errorResponse
//	@Router		/organizations/{oid} [get]
func (h *handler) getOrganization(c fiber.Ctx) error {
	o, err := h.cfg.Orgs.Get(c.Context(), param(c, "oid"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// listDevelopers godoc
//
//	@Summary	List an organization's developers
//	@Tags		organizations
//	@Produce	json
//	@Security	ApiKeyAuth
//	@Param		oid			path		string	true	"organization ID"
//	@Param		search		query		string	false	"filter by e-mail or name"
//	@Param		page		query		int		false	"page number, from 1"
//	@Param		page_size	query		int		false	"page size (default 20, at most 500)"
//	@Param		offset		query		int		false	"offset, instead of page"
//	@Param		limit		query		int		false	"limit, instead of page_size"
//	@Param		after		query		string	false	"cursor from the previous page's next"
//	@Success	200			{object}	listResponse[orgs.Member]
//	@Failure	400,401,404	{object}	errorResponse
//	@Router		/organizations/{oid}/developers [get]
func (h *handler) listDevelopers(c fiber.Ctx) error {
	o, err := listOptions(c)
	if err != nil {
		return err
	}
	page, err := h.cfg.Orgs.Members(c.Context(), apiActor(c), param(c, "oid"), o)
	if err != nil {
		return err
	}
	return renderList(c, page)
}

// addDeveloper godoc
//
//	@Summary		Add a developer to an organization
//	@Description	An existing account joins by e-mail; a new e-mail creates the account.
//	@Tags			organizations
//	@Accept			json
//	@Produce		json
//	@Security		ApiKeyAuth
//	@Param			oid			path		string				true	"organization ID"
//	@Param			body		body		developerRequest	true	"the developer"
//	@Success		201			{object}	orgs.Member
//	@Failure		400,401,404	{object}	errorResponse
//	@Router			/organizations/{oid}/developers [post]
func (h *handler) addDeveloper(c fiber.Ctx) error {
	var req developerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := h.cfg.Orgs.AddDeveloper(c.Context(), apiActor(c), param(c, "oid"), orgs.DeveloperInput{
		Email:    req.Email,
		Name:     req.Name,
		Password: req.Password,
		Role:     req.Role,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

// removeDeveloper godoc
//
//	@Summary		Remove a developer from an organization
//	@Description	The account stays; the last organization admin cannot leave while other members remain (409).
//	@Tags			organizations
//	@Security		ApiKeyAuth
//	@Param			oid	path	string	true	"organization ID"
//	@Param			uid	path	string	true	"user ID"
//	@Success		204
//	@Failure		401,404,409	{object}	errorResponse
//	@Router			/organizations/{oid}/developers/{uid} [delete]
func (h *handler) removeDeveloper(c fiber.Ctx) error {
	if err := h.cfg.Orgs.RemoveMember(c.Context(), apiActor(c), param(c, "oid"), param(c, "uid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
