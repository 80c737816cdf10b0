package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/apperr"
	"devportal/portal/accounts"
)

// APIKeyHeader carries the Admin API token.
const APIKeyHeader = "X-API-KEY"

type userKey struct{}

// requestContext gives the request a context of its own, bounded by the
// request timeout and cancelled when the handler returns; handlers pass
// c.Context() to the domain. (fiber.Ctx itself never reports cancellation.)
func (h *handler) requestContext(c fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	c.SetContext(ctx)
	return c.Next()
}

// requireAdmin lets through only calls carrying a valid admin token in
// X-API-KEY. It is the one place of Admin API authorization (workspaces
// would add their checks here).
func (h *handler) requireAdmin(c fiber.Ctx) error {
	key := c.Get(APIKeyHeader)
	if key == "" {
		return errUnauthenticated{reason: "missing " + APIKeyHeader + " header"}
	}
	user, err := h.accounts.VerifyAPIToken(c.Context(), key)
	if errors.Is(err, accounts.ErrInvalidToken) {
		return errUnauthenticated{reason: "invalid API key"}
	}
	if err != nil {
		return err
	}
	if !user.IsAdmin {
		return fmt.Errorf("the Admin API is for admins: %w", apperr.ErrForbidden)
	}
	// The caller, for the authorization checks that workspaces will add.
	c.Locals(userKey{}, user)
	return c.Next()
}
