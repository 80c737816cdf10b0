package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/internal/listing"
	"devportal/internal/portaltest"
	"devportal/portal"
	"devportal/portal/catalog"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

const petstore = `openapi: 3.0.3
info:
  title: Pets
  version: "1.0"
paths:
  /pets:
    get:
      tags: [pets]
      summary: List pets
      responses:
        "200":
          description: the pets
`

func TestParseOpenAPINamesTheProblem(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct{ doc, want string }{
		"broken JSON":      {`{"openapi": "3.0.0",`, "not valid JSON"},
		"swagger 2":        {`{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}`, "OpenAPI 3"},
		"version 4":        {`{"openapi": "4.0.0", "info": {"title": "x", "version": "1"}, "paths": {}}`, `"4.0.0"`},
		"no info title":    {"openapi: 3.0.0\ninfo:\n  version: '1'\npaths: {}\n", "title"},
		"bad response ref": {strings.Replace(petstore, `description: the pets`, `$ref: '#/components/responses/Nope'`, 1), "Nope"},
		"yaml garbage":     {"openapi: [3.0\n", "cannot be read"},
	}
	for name, c := range cases {
		_, _, err := catalog.ParseOpenAPI(ctx, c.doc)
		var ve *apperr.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields["openapi"], c.want) {
			t.Errorf("%s: err = %v, want a message with %q", name, err, c.want)
		}
	}
	for _, doc := range []string{petstore, `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{}}`} {
		d, _, err := catalog.ParseOpenAPI(ctx, doc)
		if err != nil || d == nil {
			t.Errorf("valid document refused: %v", err)
		}
	}
}

func TestAPIPublishAppliesPolicyAndTracksTheRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := portaltest.New(t, db, member)
		svc := w.PublishService(t, "pets", "/pets", "127.0.0.1", 1)
		rid := svc.Routes[0].ID
		in := catalog.Input{GatewayGroupID: w.Group.ID, ServiceID: svc.ID, RouteID: rid, Name: "Pets",
			OpenAPI: petstore, Auth: catalog.AuthKey, Approval: catalog.ApprovalMan, RateLimit: &gateway.RateLimit{Count: 10, TimeWindow: 1}}
		if _, err := w.Catalog.Create(w.Ctx, portal.Actor{UserID: "dev"}, in); !errors.Is(err, apperr.ErrForbidden) {
			t.Fatalf("a developer created an API: %v", err)
		}
		api, err := w.Catalog.Create(w.Ctx, w.Admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if api.Published || !api.Available || !api.HasDoc || api.URIs[0] != "/pets" {
			t.Fatalf("created = %+v", api)
		}
		// Not in the developers' catalog until published.
		if _, err := w.Catalog.Get(w.Ctx, api.ID, true); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unpublished API visible: %v", err)
		}
		bad := []struct {
			field string
			edit  func(*catalog.Input)
		}{
			{"route_id", func(i *catalog.Input) { i.Name = "a"; i.RouteID = "nope" }},
			{"service_id", func(i *catalog.Input) { i.Name = "b"; i.ServiceID, i.RouteID = "nope", "" }},
			{"route_id", func(i *catalog.Input) { i.Name = "Pets whole"; i.RouteID = "" }}, // overlaps the route API
			{"name", func(i *catalog.Input) {}},                                            // taken
			{"auth", func(i *catalog.Input) { i.Name = "x"; i.Auth = "basic" }},
			{"rate_limit.count", func(i *catalog.Input) { i.Name = "x"; i.RateLimit = &gateway.RateLimit{TimeWindow: 1} }},
			{"openapi", func(i *catalog.Input) { i.Name = "x"; i.OpenAPI = "swagger: '2.0'" }},
		}
		for _, b := range bad {
			x := in
			b.edit(&x)
			_, err := w.Catalog.Create(w.Ctx, w.Admin, x)
			var ve *apperr.ValidationError
			if !errors.As(err, &ve) || ve.Fields[b.field] == "" {
				t.Errorf("%s: err = %v", b.field, err)
			}
		}
		if api, err = w.Catalog.Publish(w.Ctx, w.Admin, api.ID); err != nil || !api.Published {
			t.Fatalf("publish: %+v %v", api, err)
		}
		w.Drain(t)
		doc, _, _, err := w.Catalog.Document(w.Ctx, api.ID, true)
		if err != nil || doc.Paths.Find("/pets") == nil {
			t.Fatalf("document: %v", err)
		}
		page, err := w.Catalog.List(w.Ctx, catalog.Filter{PublishedOnly: true}, listing.Options{Search: "pet"})
		if err != nil || page.Total != 1 || page.List[0].ID != api.ID || !page.List[0].Available {
			t.Fatalf("catalog = %+v, %v", page, err)
		}
		// The route goes away on the gateway: the API shows unavailable.
		if _, err := w.Gateway.DeleteService(w.Ctx, w.Group.ID, svc.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.Catalog.Get(w.Ctx, api.ID, true); got.Available {
			t.Fatal("API of a deleted route shows available")
		}
		if _, err := w.Catalog.Unpublish(w.Ctx, w.Admin, api.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Catalog.Publish(w.Ctx, w.Admin, api.ID); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("publishing an API whose route is gone: %v", err)
		}
		if err := w.Catalog.Delete(w.Ctx, w.Admin, api.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Catalog.Get(w.Ctx, api.ID, false); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("deleted API: %v", err)
		}
	})
}
