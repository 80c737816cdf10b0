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
	byID := map[string]models.PortalAPI{}
	for _, a := range apis {
		byID[a.ID] = a
		ops = append(ops, catalog.PolicyOp(a))
	}
	if len(apis) == 0 {
		return ops, nil
	}
	ids := make([]string, 0, len(apis))
	for id := range byID {
		ids = append(ids, id)
	}
	rows, err := db.Model(&models.Subscription{}).Select("app_id, api_id").
		Where("api_id IN ? AND status = ?", ids, "approved").Order("decided_at, id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var appID, apiID string
		if err := rows.Scan(&appID, &apiID); err != nil {
			return nil, err
		}
		ops = append(ops, catalog.WhitelistOp(byID[apiID], apps.ConsumerName(appID), true))
	}
	return ops, rows.Err()
}
