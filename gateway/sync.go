package gateway

import (
	"context"
	"errors"
	"sort"
	"time"

	"gorm.io/gorm"

	"devportal/gateway/etcdstore"
	"devportal/internal/apperr"
	"devportal/models"
)

// defaultDirectTimeout bounds a publish's own etcd write. etcd's client waits for a
// connection until its deadline, so an unreachable cluster would otherwise
// hold the admin's request; past it the change is queued instead.
const defaultDirectTimeout = 3 * time.Second

// writeOrQueue applies a service's etcd plan at once; when the group's etcd
// cannot be reached it records a service.sync op in the same database
// transaction instead, so the change is kept and lands, in order, once etcd
// is back. It reports whether the change was queued.
func (s *Service) writeOrQueue(ctx context.Context, tx *gorm.DB, g models.GatewayGroup, templateID, serviceID string,
	stale []string, plan etcdstore.Plan) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, s.directTimeout)
	defer cancel()
	err := s.apply(wctx, g, plan)
	if err == nil || !errors.Is(err, apperr.ErrUnavailable) || ctx.Err() != nil {
		return false, err
	}
	s.log.Warn("gateway: etcd unreachable, change queued", "group", g.ID, "service", serviceID, "err", err)
	op := Op{Kind: OpServiceSync, ServiceID: serviceID, TemplateID: templateID, StaleKeys: stale}
	if err := s.Enqueue(tx, g.ID, op); err != nil {
		return false, err
	}
	return true, nil
}

// syncPlan is the etcd plan of a queued service sync, made when it applies:
// the service as the database holds it now (nothing if it was deleted since)
// and the deletion of the keys it had and no longer has. A key another
// service or writer has taken meanwhile is left alone and reported, rather
// than blocking the group's queue; the reconciler shows it as drift.
func (s *Service) syncPlan(ctx context.Context, g models.GatewayGroup, op Op) (etcdstore.Plan, error) {
	var plan etcdstore.Plan
	cur, err := s.publishedBy(ctx, s.db, "group_id = ? AND service_id = ?", g.ID, op.ServiceID)
	if err != nil {
		return plan, err
	}
	owners := []string{op.TemplateID}
	stale := map[string]bool{}
	for _, k := range op.StaleKeys {
		stale[k] = true
	}
	now := s.now().Unix()
	if cur != nil {
		owners = append(owners, cur.TemplateID)
		res, err := renderService(g.Prefix, cur)
		if err != nil {
			return plan, err
		}
		for _, r := range res {
			delete(stale, r.key)
			stamp := r.stamp(now)
			plan.Puts = append(plan.Puts, etcdstore.Put{Key: r.key, MayReplace: yes, Build: func(old []byte) ([]byte, error) {
				if old != nil && !s.ownedBy(g, r.key, old, owners) {
					return nil, etcdstore.ErrSkip
				}
				return stamp(old)
			}})
		}
	}
	keys := make([]string, 0, len(stale))
	for k := range stale {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		plan.Puts = append(plan.Puts, etcdstore.Put{Key: k, MayReplace: yes, Build: func(old []byte) ([]byte, error) {
			if old != nil && !s.ownedBy(g, k, old, owners) {
				return nil, etcdstore.ErrSkip
			}
			return nil, nil
		}})
	}
	return plan, nil
}

// ownedBy tells whether a stored value was written for one of the templates;
// it logs the ones a queued sync has to leave alone.
func (s *Service) ownedBy(g models.GatewayGroup, key string, value []byte, templateIDs []string) bool {
	for _, id := range templateIDs {
		if labelledFor(value, id) {
			return true
		}
	}
	s.log.Error("outbox: a queued service change left a key another writer holds", "group", g.ID, "key", key)
	return false
}
