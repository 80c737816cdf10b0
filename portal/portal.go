// Package portal holds what the portal's domain packages share: who is
// acting. The packages below it (orgs, apps, catalog, subscriptions, audit,
// accounts, secrets) each own one part of the portal and know no HTTP.
package portal

// Actor is the signed-in user a domain call acts for.
type Actor struct {
	UserID  string
	Email   string
	IsAdmin bool // a platform admin (API producer)
}

// System is the actor of work nobody asked for directly (seeding, the reconciler).
var System = Actor{UserID: "", Email: "system", IsAdmin: true}
