package gateway

import (
	"errors"
	"testing"

	"devportal/internal/apperr"
)

func TestDefaultGroupAlwaysExists(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		// A second EnsureDefaults (a restart) changes nothing.
		if err := fx.svc.EnsureDefaults(fx.ctx); err != nil {
			t.Fatal(err)
		}
		g, err := fx.svc.GetGroup(fx.ctx, DefaultGroupID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Prefix != "/apisix" || g.Name != "default" {
			t.Fatalf("default group = %+v", g)
		}
		page, err := fx.svc.ListGroups(fx.ctx, ListOptions{})
		if err != nil || page.Total != 2 || len(page.List) != 2 {
			t.Fatalf("groups = %+v, %v", page, err)
		}
		page, _ = fx.svc.ListGroups(fx.ctx, ListOptions{Search: "DEFA"})
		if page.Total != 1 || page.List[0].ID != DefaultGroupID {
			t.Fatalf("search = %+v", page)
		}
	})
}

func TestCreateGroupRules(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		g, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: "staging"})
		if err != nil {
			t.Fatal(err)
		}
		if g.Prefix != "/apisix_"+g.ID {
			t.Errorf("default prefix = %q", g.Prefix)
		}
		cases := []struct {
			name string
			in   GroupInput
			want error
		}{
			{"no name", GroupInput{Prefix: "/x"}, &apperr.ValidationError{}},
			{"bad prefix", GroupInput{Name: "a", Prefix: "apisix"}, &apperr.ValidationError{}},
			{"prefix with space", GroupInput{Name: "a", Prefix: "/a b"}, &apperr.ValidationError{}},
			{"bad endpoint", GroupInput{Name: "a", Prefix: "/a", EtcdEndpoints: []string{"127.0.0.1:2379"}}, &apperr.ValidationError{}},
			{"same name", GroupInput{Name: "STAGING", Prefix: "/other"}, apperr.ErrConflict},
			{"same prefix as default", GroupInput{Name: "b", Prefix: "/apisix"}, apperr.ErrConflict},
			{"nested in default", GroupInput{Name: "c", Prefix: "/apisix/prod"}, apperr.ErrConflict},
			{"parent of default", GroupInput{Name: "d", Prefix: "/apisix/"}, apperr.ErrConflict},
		}
		for _, c := range cases {
			_, err := fx.svc.CreateGroup(fx.ctx, c.in)
			var ve *apperr.ValidationError
			if _, isVE := c.want.(*apperr.ValidationError); isVE {
				if !errors.As(err, &ve) {
					t.Errorf("%s: err = %v, want a validation error", c.name, err)
				}
			} else if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
		}
		// The same prefix on another etcd cluster is another group's business.
		if _, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: "remote", Prefix: "/apisix",
			EtcdEndpoints: []string{"http://127.0.0.1:1"}}); err != nil {
			t.Errorf("same prefix on another cluster: %v", err)
		}
		if _, err := fx.svc.GetGroup(fx.ctx, "nope"); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("unknown group: %v", err)
		}
	})
}
