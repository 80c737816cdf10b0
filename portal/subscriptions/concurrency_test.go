package subscriptions_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"devportal/internal/listing"
	"devportal/internal/portaltest"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/subscriptions"
)

// 1,000 approvals for one API, decided concurrently while the outbox worker
// applies them, leave exactly 1,000 consumers in the API's whitelist, with
// no "database is locked" or any other error.
func TestConcurrentApprovalsLoseNone(t *testing.T) {
	each(t, func(t *testing.T, w *portaltest.World) {
		const n = 1000
		api, svc := newAPI(t, w, "popular", catalog.ApprovalMan)
		dev, org := w.Developer(t, "many@example.com")
		subs := make([]string, n)
		consumers := map[string]bool{}
		for i := 0; i < n; i++ {
			app, err := w.Apps.Create(w.Ctx, dev, org, apps.Input{Name: fmt.Sprint("app-", i)})
			if err != nil {
				t.Fatal(err)
			}
			s, err := w.Subs.Request(w.Ctx, dev, app.ID, api.ID)
			if err != nil {
				t.Fatal(err)
			}
			subs[i] = s.ID
			consumers[app.Consumer] = true
		}
		ctx, cancel := context.WithCancel(w.Ctx)
		defer cancel()
		go w.Gateway.RunOutbox(ctx, 20*time.Millisecond)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		work := make(chan string)
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range work {
					if _, err := w.Subs.Approve(w.Ctx, w.Admin, id); err != nil {
						errs <- err
					}
				}
			}()
		}
		for _, id := range subs {
			work <- id
		}
		close(work)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("approve: %v", err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if p, _ := w.Gateway.PendingOutbox(w.Ctx); p == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		got := whitelist(t, w, svc.Routes[0].ID)
		seen := map[string]bool{}
		for _, c := range got {
			if !consumers[c] {
				t.Fatalf("unexpected whitelist entry %q", c)
			}
			seen[c] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("whitelist has %d entries (%d distinct), want %d", len(got), len(seen), n)
		}
		page, _ := w.Subs.List(w.Ctx, w.Admin, subscriptions.Filter{APIID: api.ID, Status: subscriptions.Approved}, listing.Options{Limit: 1})
		if page.Total != n {
			t.Fatalf("%d approved in the database", page.Total)
		}
	})
}
