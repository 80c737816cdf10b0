package handlers_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v3"

	"devportal/gateway"
	"devportal/handlers"
	"devportal/internal/dbtest"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/subscriptions"
)

const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where the browser test leaves its screenshots: with
// UPDATE_SCREENSHOTS=1 in docs/screenshots (the README shows two of them),
// else in the temporary directory, so that `make test` leaves the tree (and
// `make check-generated`, which watches docs/) clean.
func screenshotDir(t *testing.T) string {
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "docs", "screenshots")
	}
	dir := filepath.Join(os.TempDir(), "devportal-screenshots")
	t.Logf("screenshots in %s (UPDATE_SCREENSHOTS=1 puts them in docs/screenshots)", dir)
	return dir
}

// The whole developer journey in a real browser (Debian's Chromium, see
// `make browser`): sign up, create an application and read its key from the
// page, subscribe to a manual-approval API, the admin approves, call the
// API through a real data plane node with the key (200), rotate (the old
// key stops, the new one works), cancel (403).
func TestSiteBrowserJourney(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: run `make browser` (scripts/install-chromium.sh)", chromiumPath)
		}
		t.Skipf("%s is missing: run `make browser`", chromiumPath)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// The node's address is known once it runs on the World's group: the
	// site is built again with it.
	db := dbtest.SQLite(t)
	e := newSiteEnv(t, db, handlers.SiteConfig{})
	node := startNode(t, e.Group.Prefix)
	e.app = newSiteApp(t, e.World, db, handlers.SiteConfig{BaseURL: base, GatewayURL: "http://" + node.node.Addr()})
	runOutbox(t, e.Gateway)
	go func() { _ = e.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = e.app.Shutdown() })

	api := e.newAPI(t, "Orders", "/orders", catalog.AuthKey, catalog.ApprovalMan, &gateway.RateLimit{Count: 100, TimeWindow: 60}, true)
	e.newAPI(t, "Weather", "/weather", catalog.AuthNone, "", nil, true)
	e.newAPI(t, "Payments", "/payments", catalog.AuthKey, catalog.ApprovalAuto, &gateway.RateLimit{Count: 10, TimeWindow: 1}, true)
	node.await(t, "/weather", "", 200, "")
	node.await(t, "/orders", "", 401, "")

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	// The first call starts the browser with the context's lifetime: no
	// timeout on it; the steps after it get one.
	if err := chromedp.Do(browserCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, 2*time.Minute)
	defer cancelTimeout()
	fail := func(what string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("text of "+sel, err)
		}
		return strings.TrimSpace(v)
	}
	shots := screenshotDir(t)
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			fail("screenshot "+name, err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	byTest := func(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

	// Sign up.
	email := dbtest.Name("ada") + "@example.com"
	run("sign up with a short password",
		chromedp.Navigate(base+"/signup"),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "short"),
		chromedp.Click(byTest("signup-submit")),
		chromedp.WaitVisible(byTest("error-password")),
	)
	shot("signup-error")
	run("sign up",
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "analytical-engine-1"),
		chromedp.Click(byTest("signup-submit")),
		chromedp.WaitVisible(byTest("apps-empty")),
	)
	run("catalog", chromedp.Navigate(base+"/"), chromedp.WaitVisible(byTest("catalog")))
	shot("catalog")

	// Create an application and read its key from the page.
	run("create application",
		chromedp.Navigate(base+"/apps"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "mobile-app"),
		chromedp.SendKeys(chromedp.CSS(`#f-description`), "The shop's phone app"),
		chromedp.Click(byTest("app-create")),
		chromedp.WaitVisible(byTest("new-key")),
	)
	key, appHref := text(`[data-testid="new-key"]`), ""
	if a, err := chromedp.Run(ctx, chromedp.AttributeValue(byTest("continue"), "href")); err != nil {
		fail("continue link", err)
	} else {
		appHref = a.Value
	}
	if len(key) < 20 {
		t.Fatalf("key read from the page: %q", key)
	}
	shot("key-once")
	appID := strings.TrimPrefix(appHref, "/apps/")

	// Subscribe from the API page: pending (manual approval).
	run("subscribe",
		chromedp.Navigate(base+"/apis/"+api.ID),
		chromedp.WaitVisible(byTest("docs")),
	)
	shot("api")
	run("request access",
		chromedp.Click(byTest("subscribe-submit")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-status="pending"]`)),
	)
	node.await(t, "/orders", key, 403, "")

	// The admin approves; the key works through the data plane.
	subs, err := e.Subs.List(e.Ctx, e.Admin, subscriptions.Filter{AppID: appID, Status: subscriptions.Pending}, listingAll)
	if err != nil || len(subs.List) != 1 {
		t.Fatalf("pending subscriptions: %d %v", len(subs.List), err)
	}
	if _, err := e.Subs.Approve(e.Ctx, e.Admin, subs.List[0].ID); err != nil {
		t.Fatal(err)
	}
	node.await(t, "/orders", key, 200, "")
	run("approved", chromedp.Navigate(base+appHref), chromedp.WaitVisible(chromedp.CSS(`tr[data-status="approved"]`)))
	run("applications", chromedp.Navigate(base+"/apps"), chromedp.WaitVisible(byTest("apps")))
	shot("apps")

	// Try-it from the API page, with the key pasted, through the real node.
	run("try it",
		chromedp.Navigate(base+"/apis/"+api.ID),
		chromedp.SendKeys(chromedp.CSS(`#f-apikey`), key),
		chromedp.Click(byTest("tryit-send")),
		chromedp.WaitVisible(byTest("tryit-status")),
	)
	if status := text(`[data-testid="tryit-status"]`); status != "200" {
		t.Fatalf("try-it status %q", status)
	}
	// With JavaScript the answer replaced the try-it section in place.
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.HasSuffix(strings.TrimSuffix(loc, "#try"), "/try") {
		t.Errorf("try-it reloaded the page (%s): the script did not enhance it", loc)
	}

	// Rotate with no grace: the new key shown once works, the old one stops.
	run("rotate",
		chromedp.Navigate(base+appHref),
		chromedp.SetValue(chromedp.CSS(`#f-grace`), "0"),
		chromedp.Click(byTest("rotate")),
		chromedp.WaitVisible(byTest("new-key")),
	)
	newKey := text(`[data-testid="new-key"]`)
	if newKey == key || len(newKey) < 20 {
		t.Fatalf("new key %q", newKey)
	}
	node.await(t, "/orders", newKey, 200, "")
	node.await(t, "/orders", key, 401, "")

	// The application page (two keys listed, the subscription approved).
	run("application page", chromedp.Navigate(base+appHref), chromedp.WaitVisible(byTest("keys")))
	shot("application")
	// The same page on a phone-sized screen.
	run("phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(byTest("keys")))
	shot("application-phone")
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391).slice(0,5).map(e => e.tagName + '.' + e.className).join(' ')`))
		t.Errorf("the application page is %d px wide on a 390 px screen (%v): %s", w, err, wide)
	}
	run("desktop", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(byTest("keys")))

	// Cancel: confirmation, then 403 for this API.
	run("cancel",
		chromedp.Click(chromedp.CSS(`[data-testid="sub-cancel"] summary`)),
		chromedp.WaitVisible(byTest("sub-cancel-submit")),
		chromedp.Click(byTest("sub-cancel-submit")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-status="cancelled"]`)),
	)
	node.await(t, "/orders", newKey, 403, "")

	// A second organization, which Ada administers: the header's switcher,
	// then its members page with an invitation.
	acme, err := e.Orgs.Create(e.Ctx, e.Admin, dbtest.Name("Acme Robotics"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Orgs.AddDeveloper(e.Ctx, e.Admin, acme.ID, orgs.DeveloperInput{Email: email, Role: orgs.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	run("switch organization",
		chromedp.Navigate(base+"/apps"),
		chromedp.WaitVisible(byTest("org-switch")),
		chromedp.SetValue(chromedp.CSS(`#org-switch`), acme.ID),
		chromedp.Click(chromedp.CSS(`[data-testid="org-switch"] button`)),
		chromedp.WaitVisible(byTest("apps-empty")),
		chromedp.Click(byTest("members-link")),
		chromedp.WaitVisible(byTest("invite-form")),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "grace@example.com"),
		chromedp.Click(byTest("invite")),
		chromedp.WaitVisible(byTest("invitations")),
	)
	if org := text(`[data-testid="members"]`); !strings.Contains(org, email) {
		t.Fatalf("members: %q", org)
	}
	shot("members")
}
