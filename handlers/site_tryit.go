package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v3"

	"devportal/internal/apperr"
	"devportal/portal/tryit"
	"devportal/views/site"
)

// apiTry sends the try-it form's request through the gateway and renders
// the API page again with the answer: a plain form POST, no script needed.
// The API key is used for this one request and never stored.
func (h *handler) apiTry(c fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	p, err := h.apiProps(c, id)
	if err != nil {
		return err
	}
	api, err := h.cfg.Catalog.Get(c, id, true)
	if err != nil {
		return err
	}
	p.Try = site.TryIt{Method: formValue(c, "method"), Path: formValue(c, "path"), Headers: strings.Clone(c.FormValue("headers")),
		Body: strings.Clone(c.FormValue("body")), APIKey: formValue(c, "apikey")}
	client, err := tryit.New(h.gatewayURL())
	if err != nil {
		p.Try.Error = "Try-it is not configured: the gateway address is wrong."
		return render(c, fiber.StatusOK, site.APIPage(p))
	}
	resp, err := client.Do(c, tryit.Request{Method: p.Try.Method, Path: p.Try.Path, Headers: p.Try.Headers, Body: p.Try.Body, APIKey: p.Try.APIKey}, api.URIs, api.Methods)
	switch {
	case err == nil:
		r := &site.TryResult{Status: resp.Status, Body: resp.Body, Truncated: resp.Truncated, Took: resp.Took.Round(1e6).String()}
		for _, hd := range resp.Headers {
			r.Headers = append(r.Headers, site.Header{Name: hd.Name, Value: hd.Value})
		}
		p.Try.Result = r
	case errors.Is(err, apperr.ErrUnavailable):
		p.Try.Error = "The gateway at " + h.gatewayURL() + " did not answer. Try again in a moment."
	default:
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		p.Try.Error = "Not sent: " + msg
		return render(c, fiber.StatusUnprocessableEntity, site.APIPage(p))
	}
	return render(c, fiber.StatusOK, site.APIPage(p))
}
