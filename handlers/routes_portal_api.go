package handlers

import "github.com/gofiber/fiber/v3"

// registerPortalAPI registers the portal part of the Admin API under
// /api/v1 (already behind requireAdmin).
func (h *handler) registerPortalAPI(api fiber.Router) {}
