package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"devportal/internal/apperr"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err     error
		status  int
		code    string
		message string // substring; "" means not checked
	}{
		{apperr.Invalid("name", "is required"), 400, "invalid_input", "name: is required"},
		{fmt.Errorf("wrapped: %w", apperr.Invalid("prefix", "bad")), 400, "invalid_input", "prefix: bad"},
		{badRequest("malformed JSON at offset 3"), 400, "invalid_json", "offset 3"},
		{errUnauthenticated{reason: "invalid API key"}, 401, "unauthenticated", "invalid API key"},
		{apperr.NotFound("gateway group", "x"), 404, "not_found", `gateway group "x" not found`},
		{apperr.Conflict("service ID %q is taken", "s"), 409, "conflict", "is taken"},
		{fmt.Errorf("no: %w", apperr.ErrForbidden), 403, "forbidden", "forbidden"},
		{apperr.Unavailable("etcd", errors.New("dial tcp 10.0.0.7:2379: refused")), 503, "unavailable", "retry later"},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), 503, "timeout", "retry later"},
		{fiber.ErrNotFound, 404, "not_found", "no such endpoint"},
		{fiber.ErrRequestEntityTooLarge, 413, "body_too_large", "too large"},
		{fiber.ErrMethodNotAllowed, 405, "method_not_allowed", ""},
		{errors.New("pq: password authentication failed for user secret"), 500, "internal", "internal server error"},
		{fiber.NewError(500, "stack at main.go:12"), 500, "internal", "internal server error"},
	}
	for _, tt := range tests {
		status, body := classify(tt.err)
		if status != tt.status || body.Code != tt.code || !strings.Contains(body.Message, tt.message) {
			t.Errorf("classify(%v) = %d %s %q, want %d %s containing %q", tt.err, status, body.Code, body.Message, tt.status, tt.code, tt.message)
		}
		if status >= 500 && (strings.Contains(body.Message, "10.0.0.7") || strings.Contains(body.Message, "secret") || strings.Contains(body.Message, "main.go")) {
			t.Errorf("classify(%v) leaks the detail: %q", tt.err, body.Message)
		}
	}
	if _, body := classify(apperr.Invalid("name", "is required")); body.Fields["name"] != "is required" {
		t.Errorf("validation fields = %v", body.Fields)
	}
}

func TestPanicAnswersGeneric500(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(log)})
	app.Use(recover.New())
	app.Get("/api/v1/boom", func(c fiber.Ctx) error { panic("secret detail") })
	resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || strings.Contains(string(b), "secret") || !strings.Contains(string(b), `"code":"internal"`) {
		t.Fatalf("panic = %d %s, want a generic 500", resp.StatusCode, b)
	}
	if !strings.Contains(logged.String(), "secret detail") {
		t.Fatalf("the detail was not logged: %q", logged.String())
	}
}

func TestPanicOnSitePageAnswersGeneric500Page(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(slog.New(slog.DiscardHandler))})
	app.Use(recover.New())
	app.Get("/boom", func(c fiber.Ctx) error { panic("secret detail") })
	resp, err := app.Test(httptest.NewRequest("GET", "/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || strings.Contains(string(b), "secret") || !strings.Contains(string(b), `data-testid="error-page"`) ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("panic on a page = %d %s, want the generic 500 page", resp.StatusCode, b)
	}
}
