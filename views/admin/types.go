// Package admin holds the pages of the admin side (/admin), one page per
// file. The handlers copy domain values into the plain structs below, so
// the views know nothing of the database, etcd or the domain packages.
package admin

import "time"

// Subscription is a row of the subscription queue.
type Subscription struct {
	ID        string
	Status    string
	Reason    string
	AppID     string
	AppName   string
	OrgID     string
	APIID     string
	APIName   string
	CreatedAt time.Time
	DecidedAt *time.Time
}

// GroupStatus is a gateway group with its data plane nodes counted.
type GroupStatus struct {
	ID      string
	Name    string
	Prefix  string
	Online  int
	Offline int
	Err     string // the nodes could not be listed
}
