// Package seed fills a database and its gateway group's etcd with a portal
// at scale, for benchmarks and demos: organizations, developers, services
// and their routes, portal APIs, applications with keys, and subscriptions
// in mixed states, some APIs with large whitelists.
//
// Services go through the control core's own publish path (CreateService),
// so their etcd keys are what a user's publish writes. Portal rows are bulk
// inserted (multi-row INSERTs, one transaction per batch), then the
// reconciler writes the consumers, credentials, policies and whitelists to
// etcd from the database, as it does on every start: after a seed, the
// reconciler finds no drift.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/internal/ids"
	"devportal/models"
	"devportal/portal/secrets"
)

// Size is how much to seed.
type Size struct {
	Orgs          int
	Developers    int
	Services      int
	RoutesPerSvc  int // routes = Services * RoutesPerSvc; one portal API per service
	Apps          int
	Subscriptions int // about Subscriptions/Apps per application, each to a different API
	Audit         int
}

// Sizes by name: large is the target, small a hundredth of it.
var Sizes = map[string]Size{
	"large": {Orgs: 200, Developers: 2000, Services: 1000, RoutesPerSvc: 10, Apps: 100_000, Subscriptions: 1_000_000, Audit: 10_000},
	"small": {Orgs: 10, Developers: 50, Services: 100, RoutesPerSvc: 10, Apps: 1_000, Subscriptions: 10_000, Audit: 100},
}

// Password is every seeded developer's password. Developer n signs in as
// DeveloperEmail(n); developer 0 is an admin of organization 0, the one
// holding a fifth of all applications.
const Password = "seed-pass-123"

// DeveloperEmail is the sign-in e-mail of seeded developer n.
func DeveloperEmail(n int) string { return fmt.Sprintf("dev-%05d@seed.example", n) }

// OrgName is the name of seeded organization n.
func OrgName(n int) string { return fmt.Sprintf("seed-org-%04d", n) }

// ErrSeeded is returned when the database already holds a seed.
var ErrSeeded = errors.New("seed: the database is already seeded (organization seed-org-0000 exists)")

// Config says what to seed and where.
type Config struct {
	Size Size
	// GroupID is the gateway group the services and APIs live on
	// (default "default").
	GroupID string
	// Box seals the applications' keys as the portal does, with the
	// server's secret.
	Box *secrets.Box
	// State is the portal's state source the reconciler writes etcd from.
	State gateway.StateSource
	// Progress receives one line per batch; nil discards it.
	Progress io.Writer
	// Seed makes the random shape repeatable (0: a fixed default).
	Seed uint64
	// Batch is rows per transaction (default 10,000).
	Batch int
}

// Result tells what a seed did and how long each part took.
type Result struct {
	Routes, Subscriptions, Approved, Pending int
	Took                                     map[string]time.Duration
	Reconcile                                gateway.Report
}

type seeder struct {
	db   *gorm.DB
	gw   *gateway.Service
	cfg  Config
	rnd  *rand.Rand
	now  time.Time
	out  io.Writer
	res  Result
	orgs []string
	devs []string
	apis []models.PortalAPI
	apps []models.Application
}

// Run seeds db and the group's etcd through gw.
func Run(ctx context.Context, db *gorm.DB, gw *gateway.Service, cfg Config) (Result, error) {
	if cfg.GroupID == "" {
		cfg.GroupID = gateway.DefaultGroupID
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10_000
	}
	if cfg.Seed == 0 {
		cfg.Seed = 20261123
	}
	if cfg.Box == nil || cfg.State == nil {
		return Result{}, errors.New("seed: Config needs Box and State")
	}
	out := cfg.Progress
	if out == nil {
		out = io.Discard
	}
	var n int64
	if err := db.WithContext(ctx).Model(&models.Organization{}).Where("name = ?", OrgName(0)).Count(&n).Error; err != nil {
		return Result{}, err
	}
	if n > 0 {
		return Result{}, ErrSeeded
	}
	s := &seeder{db: db.WithContext(ctx), gw: gw, cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 7)),
		now: time.Now().UTC().Truncate(time.Second), out: out, res: Result{Took: map[string]time.Duration{}}}
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"organizations and developers", s.people},
		{"services and routes", s.services},
		{"portal APIs", s.portalAPIs},
		{"applications and keys", s.applications},
		{"subscriptions", s.subscriptions},
		{"audit log", s.audit},
		{"vacuum and planner statistics", s.analyze},
		{"etcd (reconcile)", s.reconcile},
	}
	for _, st := range steps {
		t0 := time.Now()
		fmt.Fprintf(out, "seed: %s ...\n", st.name)
		if err := st.f(ctx); err != nil {
			return s.res, fmt.Errorf("seed: %s: %w", st.name, err)
		}
		s.res.Took[st.name] = time.Since(t0)
		fmt.Fprintf(out, "seed: %s done in %s\n", st.name, time.Since(t0).Round(time.Millisecond))
	}
	return s.res, nil
}

// insert writes rows in transactions of cfg.Batch rows, each one multi-row
// INSERTs of at most 1,000 rows (under SQLite's and PostgreSQL's limits on
// bound parameters), reporting progress.
func insert[T any](ctx context.Context, s *seeder, what string, rows []T) error {
	t0 := time.Now()
	for lo := 0; lo < len(rows); lo += s.cfg.Batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+s.cfg.Batch, len(rows))
		if err := s.db.Transaction(func(tx *gorm.DB) error {
			return tx.Session(&gorm.Session{SkipHooks: true}).CreateInBatches(rows[lo:hi], 1000).Error
		}); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if len(rows) > s.cfg.Batch {
			el := time.Since(t0)
			fmt.Fprintf(s.out, "seed:   %s %d/%d (%.0f%%, %s, %.0f rows/s)\n", what, hi, len(rows),
				100*float64(hi)/float64(len(rows)), el.Round(time.Second), float64(hi)/el.Seconds())
		}
	}
	return nil
}

// withoutIndexes runs f with the secondary indexes of model's table
// dropped, then makes them again (models.Migrate): building an index once
// over sorted rows is far faster than keeping seven up to date row by row.
func (s *seeder) withoutIndexes(model any, f func() error) error {
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(model); err != nil {
		return err
	}
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
	if s.db.Dialector.Name() == "postgres" {
		q = "SELECT indexname FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey'"
	}
	if err := s.db.Raw(q, stmt.Table).Scan(&names).Error; err != nil {
		return err
	}
	for _, name := range names {
		if err := s.db.Exec("DROP INDEX IF EXISTS " + name).Error; err != nil {
			return err
		}
	}
	if err := f(); err != nil {
		return err
	}
	t0 := time.Now()
	if err := models.Migrate(s.db); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "seed:   indexes made again in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}

// people makes the organizations and developers (members spread over them).
func (s *seeder) people(ctx context.Context) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	orgRows := make([]models.Organization, s.cfg.Size.Orgs)
	for i := range orgRows {
		orgRows[i] = models.Organization{ID: ids.New(), Name: OrgName(i), CreatedAt: s.ago(), UpdatedAt: s.now}
		s.orgs = append(s.orgs, orgRows[i].ID)
	}
	users := make([]models.User, s.cfg.Size.Developers)
	members := make([]models.Membership, s.cfg.Size.Developers)
	for i := range users {
		users[i] = models.User{ID: ids.New(), Email: DeveloperEmail(i), Name: fmt.Sprintf("Developer %d", i),
			PasswordHash: string(hash), CreatedAt: s.ago(), UpdatedAt: s.now}
		role := "member"
		if i < len(s.orgs) {
			role = "admin"
		}
		members[i] = models.Membership{OrgID: s.orgs[i%len(s.orgs)], UserID: users[i].ID, Role: role, CreatedAt: users[i].CreatedAt}
		s.devs = append(s.devs, users[i].ID)
	}
	if err := insert(ctx, s, "organizations", orgRows); err != nil {
		return err
	}
	if err := insert(ctx, s, "developers", users); err != nil {
		return err
	}
	return insert(ctx, s, "memberships", members)
}

// services publishes Services services of RoutesPerSvc routes each through
// the control core (database and etcd, as a user's publish).
func (s *seeder) services(ctx context.Context) error {
	t0 := time.Now()
	n := s.cfg.Size.Services
	for i := range n {
		routes := make([]models.RouteSpec, s.cfg.Size.RoutesPerSvc)
		for r := range routes {
			routes[r] = models.RouteSpec{Name: fmt.Sprintf("op-%02d", r), Paths: []string{fmt.Sprintf("/seed/%04d/op-%02d", i, r)},
				Methods: []string{"GET", "POST"}}
		}
		spec := models.ServiceSpec{Name: fmt.Sprintf("seed-service-%04d", i), Type: gateway.TypeHTTP,
			Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: "127.0.0.1", Port: 1980 + i%4, Weight: 1}}},
			Routes:   routes}
		p, err := s.gw.CreateService(ctx, s.cfg.GroupID, gateway.DirectServiceInput{ServiceSpec: spec, ServiceID: fmt.Sprintf("seed-%04d", i)})
		if err != nil {
			return err
		}
		s.res.Routes += len(p.Spec.Routes)
		if (i+1)%100 == 0 || i+1 == n {
			fmt.Fprintf(s.out, "seed:   services %d/%d (%d routes, %s)\n", i+1, n, s.res.Routes, time.Since(t0).Round(time.Second))
		}
	}
	return nil
}

// portalAPIs shows every seeded service on the portal as one API: key auth,
// manual approval for nine in ten, some with a rate limit.
func (s *seeder) portalAPIs(ctx context.Context) error {
	for i := range s.cfg.Size.Services {
		approval := "manual"
		if i%10 == 9 {
			approval = "auto"
		}
		at := s.ago()
		a := models.PortalAPI{ID: ids.New(), Name: fmt.Sprintf("Seed API %04d", i),
			Description: fmt.Sprintf("Seeded API number %d: %d operations on a test backend.", i, s.cfg.Size.RoutesPerSvc),
			GroupID:     s.cfg.GroupID, ServiceID: fmt.Sprintf("seed-%04d", i), OpenAPI: openAPI(i, s.cfg.Size.RoutesPerSvc), OpenAPIFormat: "json",
			Auth: "key-auth", Approval: approval, Published: true, PublishedAt: &at, CreatedAt: at, UpdatedAt: at}
		if i%3 == 0 {
			a.RateLimitCount, a.RateLimitWindow = 100, 60
		}
		s.apis = append(s.apis, a)
	}
	return insert(ctx, s, "portal APIs", s.apis)
}

func openAPI(i, routes int) string {
	paths := ""
	for r := range routes {
		if r > 0 {
			paths += ","
		}
		paths += fmt.Sprintf(`"/seed/%04d/op-%02d":{"get":{"summary":"Operation %d","responses":{"200":{"description":"OK"}}}}`, i, r, r)
	}
	return fmt.Sprintf(`{"openapi":"3.0.3","info":{"title":"Seed API %04d","version":"1.0.0"},"paths":{%s}}`, i, paths)
}

// applications makes Apps applications, a fifth of them in organization 0,
// the rest spread over the others, each with one key and a consumer on the
// group (every application has subscriptions there).
func (s *seeder) applications(ctx context.Context) error {
	n := s.cfg.Size.Apps
	s.apps = make([]models.Application, n)
	keys := make([]models.APIKey, n)
	groups := make([]models.AppGroup, n)
	for i := range n {
		org := 0
		if i%5 != 0 && len(s.orgs) > 1 {
			org = 1 + i%(len(s.orgs)-1)
		}
		at := s.ago()
		s.apps[i] = models.Application{ID: ids.New(), OrgID: s.orgs[org], Name: fmt.Sprintf("app-%06d", i),
			Description: "A seeded application.", CreatedByID: s.devs[org%len(s.devs)], CreatedAt: at, UpdatedAt: at}
		key := secrets.NewAPIKey()
		keys[i] = models.APIKey{ID: ids.New(), AppID: s.apps[i].ID, KeyHash: secrets.HashKey(key),
			KeyEncrypted: s.cfg.Box.Seal(key), Hint: secrets.Hint(key), CreatedAt: at}
		groups[i] = models.AppGroup{AppID: s.apps[i].ID, GroupID: s.cfg.GroupID, CreatedAt: at}
	}
	if err := s.withoutIndexes(&models.Application{}, func() error { return insert(ctx, s, "applications", s.apps) }); err != nil {
		return err
	}
	if err := s.withoutIndexes(&models.APIKey{}, func() error { return insert(ctx, s, "keys", keys) }); err != nil {
		return err
	}
	return insert(ctx, s, "consumers", groups)
}

// subscriptions gives each application Subscriptions/Apps subscriptions to
// different APIs: three in ten to the ten most popular APIs (whitelists of
// tens of thousands at the large size), the rest spread over all. States:
// 85% approved, 5% pending, 4% rejected, 4% revoked, 2% cancelled.
func (s *seeder) subscriptions(ctx context.Context) error {
	perApp := max(1, s.cfg.Size.Subscriptions/max(1, len(s.apps)))
	perApp = min(perApp, len(s.apis))
	popular := min(10, len(s.apis))
	rows := make([]models.Subscription, 0, s.cfg.Size.Subscriptions)
	picked := make(map[int]bool, perApp)
	manual := 0
	for _, app := range s.apps {
		clear(picked)
		for len(picked) < perApp {
			var k int
			if len(picked) < perApp*3/10 {
				k = s.rnd.IntN(popular)
			} else {
				k = s.rnd.IntN(len(s.apis))
			}
			if picked[k] {
				continue
			}
			picked[k] = true
			api := s.apis[k]
			created := app.CreatedAt.Add(time.Duration(s.rnd.Int64N(int64(s.now.Sub(app.CreatedAt)) + 1)))
			sub := models.Subscription{ID: ids.New(), AppID: app.ID, APIID: api.ID, OrgID: app.OrgID,
				RequestedByID: app.CreatedByID, CreatedAt: created, UpdatedAt: created}
			r := s.rnd.IntN(100)
			if api.Approval == "manual" {
				// The first ones take every state, so even a tiny seed
				// has something under each tab.
				if manual < 5 {
					r = []int{0, 85, 90, 94, 98}[manual]
				}
				manual++
			}
			switch {
			case r < 85 || api.Approval == "auto":
				sub.Status = "approved"
				s.res.Approved++
			case r < 90:
				sub.Status = "pending"
				s.res.Pending++
			case r < 94:
				sub.Status, sub.Reason = "rejected", "Not for this use."
			case r < 98:
				sub.Status, sub.Reason = "revoked", "Terms of use."
			default:
				sub.Status = "cancelled"
			}
			if sub.Status != "pending" {
				d := created.Add(time.Hour)
				sub.DecidedAt, sub.UpdatedAt = &d, d
			}
			rows = append(rows, sub)
		}
	}
	s.res.Subscriptions = len(rows)
	fmt.Fprintf(s.out, "seed:   %d subscriptions made in memory\n", len(rows))
	return s.withoutIndexes(&models.Subscription{}, func() error { return s.bulkSubscriptions(ctx, rows) })
}

// audit records some admin decisions, for the audit page.
func (s *seeder) audit(ctx context.Context) error {
	rows := make([]models.AuditEntry, s.cfg.Size.Audit)
	for i := range rows {
		rows[i] = models.AuditEntry{ActorEmail: "admin@seed.example", Action: "subscription.approve", TargetType: "subscription",
			TargetID: ids.New(), Before: `{"status":"pending"}`, After: `{"status":"approved"}`, CreatedAt: s.ago()}
	}
	return insert(ctx, s, "audit entries", rows)
}

// analyze does on PostgreSQL now what autovacuum would do later: the
// planner's statistics, and the visibility map without which an index-only
// scan still reads the table (a capped count of pending subscriptions took
// 620 ms before VACUUM, 7 ms after). SQLite plans by its indexes alone.
func (s *seeder) analyze(context.Context) error {
	if s.db.Dialector.Name() != "postgres" {
		return nil
	}
	return s.db.Exec("VACUUM ANALYZE").Error
}

// reconcile writes the portal's state to etcd from the database.
func (s *seeder) reconcile(ctx context.Context) error {
	rep, err := s.gw.Reconcile(ctx, s.cfg.GroupID, s.cfg.State)
	s.res.Reconcile = rep
	if err == nil {
		fmt.Fprintf(s.out, "seed:   etcd: %d keys checked, %d written\n", rep.Checked, rep.Repaired)
	}
	return err
}

// ago is a time in the last year.
func (s *seeder) ago() time.Time {
	return s.now.Add(-time.Duration(s.rnd.Int64N(int64(365 * 24 * time.Hour))))
}
