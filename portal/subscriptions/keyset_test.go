package subscriptions_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"devportal/internal/apperr"
	"devportal/internal/listing"
	"devportal/internal/portaltest"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
)

// TestListByCursor: walking the subscriptions by cursor returns each once,
// in the order of a walk by offset, though six share each created_at.
func TestListByCursor(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		api, _ := newAPI(t, w, "orders", catalog.ApprovalMan)
		dev, orgID := w.Developer(t, "keyset@example.com")
		app, err := w.Apps.Create(w.Ctx, dev, orgID, apps.Input{Name: "keyset"})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		rows := make([]models.Subscription, 250)
		for i := range rows {
			status := subscriptions.Rejected
			if i%3 == 0 {
				status = subscriptions.Revoked
			}
			rows[i] = models.Subscription{ID: fmt.Sprintf("sub%03d", (i*131)%250), AppID: app.ID, APIID: api.ID, OrgID: orgID,
				Status: status, CreatedAt: base.Add(time.Duration(i/6) * time.Second), UpdatedAt: base}
		}
		if err := w.DB.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		list := func(actor portal.Actor, f subscriptions.Filter, o listing.Options) listing.Page[subscriptions.Subscription] {
			t.Helper()
			p, err := w.Subs.List(w.Ctx, actor, f, o)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		for _, c := range []struct {
			name  string
			actor portal.Actor
			f     subscriptions.Filter
			want  int
		}{
			{"admin, all", w.Admin, subscriptions.Filter{}, 250},
			{"admin, revoked", w.Admin, subscriptions.Filter{Status: subscriptions.Revoked}, 84},
			{"developer, by application", dev, subscriptions.Filter{AppID: app.ID}, 250},
		} {
			var byCursor, byOffset []string
			seen := map[string]bool{}
			for o := (listing.Options{Limit: 20}); ; {
				p := list(c.actor, c.f, o)
				for _, s := range p.List {
					if seen[s.ID] {
						t.Fatalf("%s: %s twice", c.name, s.ID)
					}
					seen[s.ID] = true
					byCursor = append(byCursor, s.ID)
				}
				if p.Next == "" {
					break
				}
				o.After = p.Next
			}
			for off := 0; ; off += 20 {
				p := list(c.actor, c.f, listing.Options{Offset: off, Limit: 20})
				for _, s := range p.List {
					byOffset = append(byOffset, s.ID)
				}
				if len(p.List) < 20 {
					if p.Next != "" {
						t.Fatalf("%s: the last page by offset has next %q", c.name, p.Next)
					}
					break
				}
			}
			if len(byCursor) != c.want || !slices.Equal(byCursor, byOffset) {
				t.Fatalf("%s: by cursor %d %v\nby offset %d %v", c.name, len(byCursor), byCursor, len(byOffset), byOffset)
			}
		}
		// Newest first, then by ID descending among equal times.
		all := list(w.Admin, subscriptions.Filter{}, listing.Options{Limit: 500}).List
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
				t.Fatalf("out of order at %d: %s %v, %s %v", i, a.ID, a.CreatedAt, b.ID, b.CreatedAt)
			}
		}
		// An offset page's next continues where it ends.
		p := list(w.Admin, subscriptions.Filter{}, listing.Options{Offset: 40, Limit: 20})
		next := list(w.Admin, subscriptions.Filter{}, listing.Options{After: p.Next, Limit: 20})
		if len(next.List) != 20 || next.List[0].ID != all[60].ID {
			t.Fatalf("after the offset-40 page: %d rows from %v, want from %s", len(next.List), next.List, all[60].ID)
		}
		// A malformed or foreign cursor is bad input.
		for _, cursor := range []string{"%%%", "WyJhIl0"} {
			_, err := w.Subs.List(w.Ctx, w.Admin, subscriptions.Filter{}, listing.Options{After: cursor})
			var v *apperr.ValidationError
			if !errors.As(err, &v) || v.Fields["after"] != "invalid cursor" {
				t.Fatalf("cursor %q: %v, want invalid cursor", cursor, err)
			}
		}
	})
}
