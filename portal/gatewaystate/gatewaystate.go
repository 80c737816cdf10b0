// Package gatewaystate tells the gateway's reconciler what the portal wants
// on a gateway group: application consumers with their live keys, the
// policies of APIs published there, and the whitelists of approved
// subscriptions, all rebuilt from the database.
package gatewaystate

import (
	"context"

	"gorm.io/gorm"

	"devportal/gateway"
	"devportal/models"
	"devportal/portal/apps"
	"devportal/portal/catalog"
)

// Source implements gateway.StateSource from the portal's tables.
type Source struct {
	db   *gorm.DB
	apps *apps.Service
}

// New builds the source.
func New(db *gorm.DB, a *apps.Service) *Source { return &Source{db: db, apps: a} }

var _ gateway.StateSource = (*Source)(nil)

// GroupOps lists the ops that write the portal's state on a group, in an
// order that applies cleanly: consumers, policies, then whitelist entries.
func (s *Source) GroupOps(ctx context.Context, groupID string) ([]gateway.Op, error) {
	db := s.db.WithContext(ctx)
	ops, err := s.apps.GroupConsumerOps(ctx, db, groupID)
	if err != nil {
		return nil, err
	}
	// Routes of deleted key-auth APIs stay closed.
	var closed []models.ClosedRoute
	if err := db.Where("group_id = ?", groupID).Order("service_id, route_id").Find(&closed).Error; err != nil {
		return nil, err
	}
	for _, c := range closed {
		ops = append(ops, gateway.Op{Kind: gateway.OpRoutePolicy, RouteID: c.RouteID, ServiceID: c.ServiceID, KeyAuth: true})
	}
	// An API keeps its policy once published, also while unpublished.
	var apis []models.PortalAPI
	if err := db.Select("id, group_id, service_id, route_id, auth, rate_limit_count, rate_limit_window").
		Where("group_id = ? AND published_at IS NOT NULL", groupID).Order("id").Find(&apis).Error; err != nil {
		return nil, err
	}
	// The subscribers of each of the group's APIs, filled below.
	members := make(map[string][]string, len(apis))
	for _, a := range apis {
		members[a.ID] = nil
		ops = append(ops, catalog.PolicyOp(a))
	}
	if len(apis) == 0 {
		return ops, nil
	}
	// Every approved subscription, in the order they were decided: the
	// order the outbox appended them to the whitelists, so that values in
	// etcd compare equal as bytes (decoding 10,000 whitelists instead takes
	// seconds). A million of them are most of the table: SQLite reads it
	// from start to end and sorts it in a few seconds, where its index on
	// status would look each row up first (three times as long).
	// PostgreSQL picks its own plan.
	from := "subscriptions"
	if db.Name() == "sqlite" {
		from = "subscriptions NOT INDEXED"
	}
	rows, err := db.Table(from).Select("app_id, api_id").Where("status = ?", "approved").Order("decided_at, id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var appID, apiID string
		if err := rows.Scan(&appID, &apiID); err != nil {
			return nil, err
		}
		if names, ok := members[apiID]; ok {
			members[apiID] = append(names, apps.ConsumerName(appID))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// One op per API for all its subscribers, after its policy.
	for _, a := range apis {
		if names := members[a.ID]; len(names) > 0 {
			ops = append(ops, catalog.WhitelistAllOp(a, names))
		}
	}
	return ops, nil
}
