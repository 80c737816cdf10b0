// Package portaltest wires the whole domain (control core and portal) on a
// real database and a real etcd for tests: one World per test.
package portaltest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/gateway/apisix"
	"devportal/gateway/etcdstore"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
	"devportal/models"
	"devportal/portal"
	"devportal/portal/accounts"
	"devportal/portal/apps"
	"devportal/portal/catalog"
	"devportal/portal/orgs"
	"devportal/portal/secrets"
	"devportal/portal/signup"
	"devportal/portal/subscriptions"
)

// Secret is the server secret of every World.
const Secret = "portaltest-secret-0123456789"

// World is every domain service over one database and one etcd member.
type World struct {
	Ctx      context.Context
	DB       *gorm.DB
	Member   *etcdtest.Member
	Gateway  *gateway.Service
	Accounts *accounts.Service
	Orgs     *orgs.Service
	Catalog  *catalog.Service
	Apps     *apps.Service
	Subs     *subscriptions.Service
	Signup   *signup.Service
	Keyring  *apisix.Keyring
	Box      *secrets.Box
	// Group is a gateway group of the test's own (a fresh prefix).
	Group gateway.Group
	Admin portal.Actor
}

// New builds a World on db against member.
func New(t testing.TB, db *gorm.DB, member *etcdtest.Member) *World {
	t.Helper()
	ctx := context.Background()
	clients := etcdstore.NewClients(member.Endpoints())
	t.Cleanup(clients.Close)
	gw := gateway.New(db, clients)
	if err := gw.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(db)
	o := orgs.New(db, acc)
	if err := o.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(Secret)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
	a := apps.New(db, gw, o, box, kr)
	g, err := gw.CreateGroup(ctx, gateway.GroupInput{Name: dbtest.Name("g"), Prefix: "/" + dbtest.Name("p")})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := acc.CreateUser(ctx, nil, accounts.UserInput{Email: dbtest.Name("admin") + "@example.com", Password: "admin-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	db.Model(&models.User{}).Where("id = ?", admin.ID).Update("is_admin", true)
	return &World{Ctx: ctx, DB: db, Member: member, Gateway: gw, Accounts: acc, Orgs: o,
		Catalog: catalog.New(db, gw), Apps: a, Subs: subscriptions.New(db, gw, a, o), Signup: signup.New(db, acc, o), Keyring: kr, Box: box,
		Group: g, Admin: portal.Actor{UserID: admin.ID, Email: admin.Email, IsAdmin: true}}
}

// Developer creates a developer in a new organization of their own and
// returns them as an actor with the organization's ID.
func (w *World) Developer(t testing.TB, email string) (portal.Actor, string) {
	t.Helper()
	org, err := w.Orgs.Create(w.Ctx, w.Admin, dbtest.Name("org"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Orgs.AddDeveloper(w.Ctx, w.Admin, org.ID, orgs.DeveloperInput{Email: email, Password: "dev-pass-123", Role: orgs.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	return portal.Actor{UserID: m.ID, Email: m.Email}, org.ID
}

// PublishService publishes a one-route HTTP service to the World's group
// with its upstream at host:port and returns it.
func (w *World) PublishService(t testing.TB, name, path, host string, port int) gateway.PublishedService {
	t.Helper()
	tpl, err := w.Gateway.CreateTemplate(w.Ctx, models.ServiceSpec{Name: name, Type: gateway.TypeHTTP,
		Upstream: models.UpstreamSpec{Nodes: []models.NodeSpec{{Host: host, Port: port, Weight: 1}}},
		Routes:   []models.RouteSpec{{Name: name, Paths: []string{path}}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Gateway.Publish(w.Ctx, tpl.ID, gateway.PublishInput{GatewayGroupID: w.Group.ID, Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Drain applies the outbox now.
func (w *World) Drain(t testing.TB) {
	t.Helper()
	if _, err := w.Gateway.DrainOutbox(w.Ctx); err != nil {
		t.Fatal(err)
	}
}
