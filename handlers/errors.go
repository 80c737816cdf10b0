package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/apperr"
)

// errorResponse is the one shape of every Admin API error.
type errorResponse struct {
	Error errorBody `json:"error"`
}

// errorBody says what went wrong: a stable machine code and a message for
// people. Fields is set for invalid input: the message of each bad field.
type errorBody struct {
	Code    string            `json:"code" example:"invalid_input"`
	Message string            `json:"message" example:"invalid input: name: is required"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// errUnauthenticated answers 401: no API key, or one that is not valid.
type errUnauthenticated struct{ reason string }

func (e errUnauthenticated) Error() string { return e.reason }

// errorHandler is the app's one ErrorHandler: it maps every error a handler
// or middleware returns to a status and the JSON error shape. Unknown errors
// answer 500 with a generic message; their detail goes to the log only.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c fiber.Ctx, err error) error {
		status, body := classify(err)
		switch {
		case status >= 500:
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
		case status != fiber.StatusNotFound && status != fiber.StatusUnauthorized:
			log.Debug("request rejected", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
		}
		if isWebRequest(c) {
			// The site answers with an HTML page (handlers/web.go).
			return renderErrorPage(c, status, body)
		}
		if status == fiber.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `APIKey header="X-API-KEY"`)
		}
		return c.Status(status).JSON(errorResponse{Error: body})
	}
}

// classify maps an error to its status and body.
func classify(err error) (int, errorBody) {
	var (
		ve     *apperr.ValidationError
		re     *requestError
		unauth errUnauthenticated
		fe     *fiber.Error
	)
	switch {
	case errors.As(err, &ve):
		return fiber.StatusBadRequest, errorBody{Code: "invalid_input", Message: ve.Error(), Fields: ve.Fields}
	case errors.As(err, &re):
		return re.Status, errorBody{Code: re.Code, Message: re.Message}
	case errors.As(err, &unauth):
		return fiber.StatusUnauthorized, errorBody{Code: "unauthenticated", Message: unauth.reason}
	case errors.Is(err, apperr.ErrNotFound):
		return fiber.StatusNotFound, errorBody{Code: "not_found", Message: err.Error()}
	case errors.Is(err, apperr.ErrConflict):
		return fiber.StatusConflict, errorBody{Code: "conflict", Message: err.Error()}
	case errors.Is(err, apperr.ErrForbidden):
		return fiber.StatusForbidden, errorBody{Code: "forbidden", Message: err.Error()}
	case errors.Is(err, apperr.ErrUnavailable):
		// The detail may name hosts of the database or etcd: log it, and
		// tell the caller only that it is worth retrying.
		return fiber.StatusServiceUnavailable, errorBody{Code: "unavailable", Message: "a dependency (database or etcd) is unavailable; retry later"}
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable, errorBody{Code: "timeout", Message: "the request took too long; retry later"}
	case errors.As(err, &fe):
		return fe.Code, errorBody{Code: fiberCode(fe.Code), Message: fiberMessage(fe)}
	}
	return fiber.StatusInternalServerError, errorBody{Code: "internal", Message: "internal server error"}
}

// fiberCode names fiber's own errors (unknown route, body too large, ...).
func fiberCode(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "body_too_large"
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return "headers_too_large"
	case fiber.StatusRequestTimeout:
		return "timeout"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	if status >= 500 {
		return "internal"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

func fiberMessage(fe *fiber.Error) string {
	switch fe.Code {
	case fiber.StatusNotFound:
		return "no such endpoint"
	case fiber.StatusRequestEntityTooLarge:
		return "request body too large"
	}
	if fe.Code >= 500 {
		return "internal server error"
	}
	return fe.Message
}
