package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// readiness is the answer of /readyz: each check is "ok" or why it failed.
type readiness struct {
	Status string            `json:"status" example:"ok"`
	Checks map[string]string `json:"checks"`
	Error  *errorBody        `json:"error,omitempty"`
}

// healthz answers while the process serves HTTP (liveness).
func (h *handler) healthz(c fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 when the database and etcd answer, else 503 naming
// which failed and why (readiness).
func (h *handler) readyz(c fiber.Ctx) error {
	checks := map[string]func(context.Context) error{
		"database": h.pingDB,
		"etcd":     h.gw.Ping,
	}
	out := readiness{Status: "ok", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Context(), readyTimeout)
			defer cancel()
			result := "ok"
			if err := check(ctx); err != nil {
				result = err.Error()
			}
			mu.Lock()
			out.Checks[name] = result
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, name := range []string{"database", "etcd"} {
		if out.Checks[name] != "ok" {
			out.Status = "unavailable"
			if out.Error == nil {
				out.Error = &errorBody{Code: "not_ready", Message: name + ": " + out.Checks[name]}
			}
		}
	}
	if out.Error != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(out)
	}
	return c.JSON(out)
}
