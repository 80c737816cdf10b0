package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"devportal/gateway/apisix"
	"devportal/gateway/etcdstore"
	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/models"
)

// Publish makes a version of a template live on a group: the one published
// version of that service there. A republish keeps the group's runtime
// configuration unless the input replaces it; the replaced version goes to history.
func (s *Service) Publish(ctx context.Context, templateID string, in PublishInput) (PublishedService, error) {
	var v apperr.Validator
	validVersion(&v, in.Version)
	v.Check(in.GatewayGroupID != "", "gateway_group_id", "is required")
	if err := v.Err(); err != nil {
		return PublishedService{}, err
	}
	var next *models.PublishedService
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		tpl, err := s.template(ctx, tx, templateID)
		if err != nil {
			return err
		}
		g, err := s.group(ctx, tx, in.GatewayGroupID)
		if err != nil {
			return err
		}
		prev, err := s.publishedBy(ctx, tx, "group_id = ? AND template_id = ?", g.ID, tpl.ID)
		if err != nil {
			return err
		}
		next, err = s.nextState(ctx, tx, nextInput{group: g, templateID: tpl.ID, prev: prev, spec: tpl.Spec.V,
			version: in.Version, serviceID: in.ServiceID, routeIDs: in.RouteIDs, runtime: in.Runtime, snapshot: true})
		if err != nil {
			return err
		}
		return s.commit(ctx, tx, g, prev, next, "replaced by version "+in.Version)
	})
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(next), nil
}

// CreateService creates a service directly on a group, with no version, and
// its template in the Service Hub.
func (s *Service) CreateService(ctx context.Context, groupID string, in DirectServiceInput) (PublishedService, error) {
	var next *models.PublishedService
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		g, err := s.group(ctx, tx, groupID)
		if err != nil {
			return err
		}
		spec := in.ServiceSpec
		if err := s.prepareSpec(ctx, tx, &spec, nil); err != nil {
			return err
		}
		tpl := models.ServiceTemplate{ID: ids.New(), Name: spec.Name, Type: spec.Type, Spec: models.NewJSON(spec)}
		if err := tx.Create(&tpl).Error; err != nil {
			return err
		}
		next, err = s.nextState(ctx, tx, nextInput{group: g, templateID: tpl.ID, spec: spec,
			serviceID: in.ServiceID, routeIDs: in.RouteIDs, runtime: in.Runtime, snapshot: true})
		if err != nil {
			return err
		}
		return s.commit(ctx, tx, g, nil, next, "")
	})
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(next), nil
}

// UpdateService edits a published service in place. The state before the edit
// goes to history; the service no longer runs a hub version, so its version is cleared.
func (s *Service) UpdateService(ctx context.Context, groupID, serviceID string, in DirectServiceInput) (PublishedService, error) {
	var next *models.PublishedService
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		g, prev, err := s.groupAndService(ctx, tx, groupID, serviceID)
		if err != nil {
			return err
		}
		spec := in.ServiceSpec
		if err := s.prepareSpec(ctx, tx, &spec, routeTemplateIDs(prev.Spec.V)); err != nil {
			return err
		}
		next, err = s.nextState(ctx, tx, nextInput{group: g, templateID: prev.TemplateID, prev: prev, spec: spec,
			serviceID: in.ServiceID, routeIDs: in.RouteIDs, runtime: in.Runtime, snapshot: true})
		if err != nil {
			return err
		}
		return s.commit(ctx, tx, g, prev, next, "before a direct edit")
	})
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(next), nil
}

// UpdateRuntime changes a service's runtime configuration on one group only.
func (s *Service) UpdateRuntime(ctx context.Context, groupID, serviceID string, rt models.Runtime) (PublishedService, error) {
	var next *models.PublishedService
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		g, prev, err := s.groupAndService(ctx, tx, groupID, serviceID)
		if err != nil {
			return err
		}
		next, err = s.nextState(ctx, tx, nextInput{group: g, templateID: prev.TemplateID, prev: prev, spec: prev.Spec.V,
			version: prev.Version, runtime: &rt})
		if err != nil {
			return err
		}
		return s.commit(ctx, tx, g, prev, next, "before a runtime change")
	})
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(next), nil
}

// Rollback republishes a history version, with the group's current runtime configuration.
func (s *Service) Rollback(ctx context.Context, groupID, serviceID string, in RollbackInput) (PublishedService, error) {
	if in.HistoryID == "" {
		return PublishedService{}, apperr.Invalid("history_id", "is required")
	}
	var next *models.PublishedService
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		g, prev, err := s.groupAndService(ctx, tx, groupID, serviceID)
		if err != nil {
			return err
		}
		var h models.ServiceHistory
		err = tx.First(&h, "id = ? AND group_id = ? AND service_id = ?", in.HistoryID, g.ID, serviceID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("history entry", in.HistoryID)
		}
		if err != nil {
			return err
		}
		// Routes live now keep their IDs; routes that came back get their old ones.
		want := map[string]string{}
		for rt, id := range h.RouteIDs.V {
			if _, live := prev.RouteIDs.V[rt]; !live {
				want[rt] = id
			}
		}
		next, err = s.nextState(ctx, tx, nextInput{group: g, templateID: prev.TemplateID, prev: prev, spec: h.Spec.V,
			version: h.Version, routeIDs: want})
		if err != nil {
			return err
		}
		label := h.Version
		if label == "" {
			label = "the state of " + h.CreatedAt.Format(time.RFC3339)
		}
		return s.commit(ctx, tx, g, prev, next, "replaced by a rollback to "+label)
	})
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(next), nil
}

// DeleteService unpublishes a service from a group: exactly its keys go, in
// one transaction, with its history. It reports whether the deletion was
// queued because the group's etcd could not be reached.
func (s *Service) DeleteService(ctx context.Context, groupID, serviceID string) (queued bool, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		g, prev, err := s.groupAndService(ctx, tx, groupID, serviceID)
		if err != nil {
			return err
		}
		for _, m := range []any{&models.PublishedRoute{}, &models.ServiceHistory{}, &models.PublishedService{}} {
			if err := tx.Where("group_id = ? AND service_id = ?", g.ID, serviceID).Delete(m).Error; err != nil {
				return err
			}
		}
		keys := keysOf(g.Prefix, prev)
		queued, err = s.writeOrQueue(ctx, tx, g, prev.TemplateID, prev.ServiceID, keys, etcdstore.Plan{Deletes: keys})
		return err
	})
	return queued, err
}

// nextInput is what the next state of a published service is made from.
type nextInput struct {
	group      models.GatewayGroup
	templateID string
	prev       *models.PublishedService // nil on a first publish
	spec       models.ServiceSpec
	version    string
	serviceID  string
	routeIDs   map[string]string // by route template ID or route name
	runtime    *models.Runtime   // nil keeps prev's
	// snapshot copies the plugin templates' current plugins into the spec;
	// false keeps the spec's own snapshot (a rollback, a runtime change).
	snapshot bool
}

// nextState checks the input and builds the service's next published state.
func (s *Service) nextState(ctx context.Context, tx *gorm.DB, in nextInput) (*models.PublishedService, error) {
	var v apperr.Validator
	prev, spec := in.prev, in.spec
	serviceID := in.serviceID
	if prev != nil {
		v.Check(serviceID == "" || serviceID == prev.ServiceID, "service_id", "is %q on this group and cannot change", prev.ServiceID)
		serviceID = prev.ServiceID
	} else {
		if serviceID == "" {
			serviceID = in.templateID
		}
		validID(&v, "service_id", serviceID)
	}

	// Route IDs: fixed once given on a group; chosen or defaulted for new routes.
	byName := map[string]string{}
	var order []string
	for _, r := range spec.Routes {
		byName[r.Name] = r.TemplateID
		order = append(order, r.TemplateID)
	}
	for _, r := range spec.StreamRoutes {
		byName[r.Name] = r.TemplateID
		order = append(order, r.TemplateID)
	}
	known := routeTemplateIDs(spec)
	want := map[string]string{}
	for key, id := range in.routeIDs {
		rt := key
		if !known[rt] {
			rt = byName[key]
		}
		if rt == "" {
			v.Add("route_ids."+key, "is neither a route template ID nor a route name of this service")
			continue
		}
		validID(&v, "route_ids."+key, id)
		want[rt] = id
	}
	routeIDs := map[string]string{}
	owner := map[string]string{}
	for _, rt := range order {
		id := ""
		if prev != nil {
			id = prev.RouteIDs.V[rt]
		}
		if w := want[rt]; w != "" {
			v.Check(id == "" || id == w, "route_ids."+rt, "the route's ID on this group is %q and cannot change", id)
			if id == "" {
				id = w
			}
		}
		if id == "" {
			id = rt
		}
		if other, dup := owner[id]; dup {
			v.Add("route_ids."+rt, "route ID %q is also given to route %q", id, other)
		}
		owner[id] = rt
		routeIDs[rt] = id
	}

	var rt models.Runtime
	switch {
	case in.runtime != nil:
		rt = cloneRuntime(*in.runtime)
	case prev != nil:
		rt = cloneRuntime(prev.Runtime.V)
	}
	if err := normalizeRuntime(&rt, spec.Type); err != nil {
		var ve *apperr.ValidationError
		if errors.As(err, &ve) {
			for f, m := range ve.Fields {
				v.Add(f, "%s", m)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	if in.snapshot {
		spec.PluginConfigs = map[string]map[string]any{}
		for i, r := range spec.Routes {
			if r.PluginTemplateID == "" {
				continue
			}
			pt, err := s.pluginTemplate(ctx, tx, r.PluginTemplateID)
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, apperr.Invalid(fmt.Sprintf("routes[%d].plugin_template_id", i), "plugin template %q does not exist", r.PluginTemplateID)
			}
			if err != nil {
				return nil, err
			}
			spec.PluginConfigs[pt.ID] = pt.Plugins.V
		}
	}

	if prev == nil {
		var taken models.PublishedService
		err := tx.Select("template_id").First(&taken, "group_id = ? AND service_id = ?", in.group.ID, serviceID).Error
		if err == nil {
			return nil, apperr.Conflict("service ID %q is already used on gateway group %q", serviceID, in.group.ID)
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
	}
	now := s.now()
	next := &models.PublishedService{GroupID: in.group.ID, ServiceID: serviceID, TemplateID: in.templateID,
		Name: spec.Name, Version: in.version, Spec: models.NewJSON(spec), Runtime: models.NewJSON(rt),
		RouteIDs: models.NewJSON(routeIDs), PublishedAt: now, UpdatedAt: now}
	if prev != nil && in.version == prev.Version {
		next.PublishedAt = prev.PublishedAt
	}
	return next, nil
}

// commit writes the next state to the database and to etcd together: the
// etcd transaction runs last inside the database transaction, so when etcd
// refuses, the database rolls back and neither store is half-written. When
// etcd cannot be reached, the change is queued in the outbox instead and
// next.Pending tells the caller so.
func (s *Service) commit(ctx context.Context, tx *gorm.DB, g models.GatewayGroup, prev, next *models.PublishedService, reason string) error {
	if prev != nil {
		h := models.ServiceHistory{ID: ids.New(), GroupID: g.ID, ServiceID: prev.ServiceID, TemplateID: prev.TemplateID,
			Version: prev.Version, Spec: prev.Spec, Runtime: prev.Runtime, RouteIDs: prev.RouteIDs, Reason: reason,
			CreatedAt: s.now()}
		if err := tx.Create(&h).Error; err != nil {
			return err
		}
	}
	if err := s.claimRoutes(tx, g.ID, prev, next); err != nil {
		return err
	}
	if err := tx.Save(next).Error; err != nil {
		return err
	}
	res, err := renderService(g.Prefix, next)
	if err != nil {
		return err
	}
	var prevKeys []string
	if prev != nil {
		prevKeys = keysOf(g.Prefix, prev)
	}
	stale := map[string]bool{}
	for _, k := range prevKeys {
		stale[k] = true
	}
	now := s.now().Unix()
	var plan etcdstore.Plan
	for _, r := range res {
		ours := stale[r.key]
		plan.Puts = append(plan.Puts, etcdstore.Put{Key: r.key, Build: r.stamp(now),
			MayReplace: func(cur []byte) bool { return ours || labelledFor(cur, next.TemplateID) }})
		delete(stale, r.key)
	}
	for k := range stale {
		plan.Deletes = append(plan.Deletes, k)
	}
	sort.Strings(plan.Deletes)
	queued, err := s.writeOrQueue(ctx, tx, g, next.TemplateID, next.ServiceID, prevKeys, plan)
	next.Pending = queued
	return err
}

// labelledFor tells whether an etcd value was written for this template (a
// write that landed in etcd while its database transaction did not commit).
func labelledFor(cur []byte, templateID string) bool {
	var v struct {
		Labels apisix.Labels `json:"labels"`
	}
	return json.Unmarshal(cur, &v) == nil && v.Labels[apisix.LabelServiceTemplateID] == templateID
}

// claimRoutes records which route IDs the service owns on the group, refusing
// IDs another service holds.
func (s *Service) claimRoutes(tx *gorm.DB, groupID string, prev, next *models.PublishedService) error {
	kinds := map[string]string{}
	for _, r := range next.Spec.V.Routes {
		kinds[next.RouteIDs.V[r.TemplateID]] = string(apisix.KindRoutes)
	}
	for _, r := range next.Spec.V.StreamRoutes {
		kinds[next.RouteIDs.V[r.TemplateID]] = string(apisix.KindStreamRoutes)
	}
	wanted := make([]string, 0, len(kinds))
	for id := range kinds {
		wanted = append(wanted, id)
	}
	sort.Strings(wanted)
	var taken []models.PublishedRoute
	if err := tx.Where("group_id = ? AND route_id IN ? AND service_id <> ?", groupID, wanted, next.ServiceID).
		Find(&taken).Error; err != nil {
		return err
	}
	if len(taken) > 0 {
		return apperr.Conflict("route ID %q is used by service %q on this gateway group", taken[0].RouteID, taken[0].ServiceID)
	}
	if err := tx.Where("group_id = ? AND service_id = ? AND route_id NOT IN ?", groupID, next.ServiceID, wanted).
		Delete(&models.PublishedRoute{}).Error; err != nil {
		return err
	}
	rtByID := map[string]string{}
	for rt, id := range next.RouteIDs.V {
		rtByID[id] = rt
	}
	rows := make([]models.PublishedRoute, 0, len(wanted))
	for _, id := range wanted {
		rows = append(rows, models.PublishedRoute{GroupID: groupID, RouteID: id, Kind: kinds[id],
			ServiceID: next.ServiceID, RouteTemplateID: rtByID[id]})
	}
	err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&rows).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Conflict("a route ID of this service is used by another service on this gateway group")
	}
	return err
}

// apply runs an etcd plan on the group's cluster and maps its errors.
func (s *Service) apply(ctx context.Context, g models.GatewayGroup, plan etcdstore.Plan) error {
	return s.applyKnown(ctx, g, plan, nil)
}

// applyKnown is apply for the outbox worker, which remembers in st the keys
// it last wrote to each cluster (etcdstore.ApplyKnown); a nil st is apply.
func (s *Service) applyKnown(ctx context.Context, g models.GatewayGroup, plan etcdstore.Plan, st *drainState) error {
	cli, err := s.client(g)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := etcdstore.ApplyKnown(ctx, cli, plan, s.maxTxnOps, st.knownFor(cli))
	if s.applied != nil {
		s.applied(res)
	}
	var ve *apperr.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return err
	case errors.Is(err, etcdstore.ErrKeyTaken):
		return apperr.Conflict("%s exists in etcd and was not written by this service; choose another ID", keyName(g.Prefix, err))
	case errors.Is(err, etcdstore.ErrTooManyOps):
		return apperr.Invalid("routes", "this change needs more etcd operations than one transaction may hold (%v); raise etcd's --max-txn-ops and --etcd-max-txn-ops, or split the service", err)
	case errors.Is(err, etcdstore.ErrContended):
		return apperr.Conflict("the service's keys in etcd kept changing; try again")
	default:
		return apperr.Unavailable("etcd", err)
	}
}

func keyName(prefix string, err error) string {
	msg := err.Error()
	if i := len(etcdstore.ErrKeyTaken.Error()) + 2; len(msg) > i {
		if pk, ok := apisix.ParseKey(prefix, msg[i:]); ok {
			return fmt.Sprintf("%s %q", pk.Kind, pk.ID)
		}
		return msg[i:]
	}
	return "a key"
}

// publishedBy loads one published service (nil when none), locked for the
// rest of the transaction on PostgreSQL; SQLite's immediate transactions
// already hold the write lock.
func (s *Service) publishedBy(ctx context.Context, tx *gorm.DB, where string, args ...any) (*models.PublishedService, error) {
	q := tx.WithContext(ctx)
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row models.PublishedService
	err := q.Where(where, args...).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

func (s *Service) groupAndService(ctx context.Context, tx *gorm.DB, groupID, serviceID string) (models.GatewayGroup, *models.PublishedService, error) {
	g, err := s.group(ctx, tx, groupID)
	if err != nil {
		return g, nil, err
	}
	p, err := s.publishedBy(ctx, tx, "group_id = ? AND service_id = ?", g.ID, serviceID)
	if err != nil {
		return g, nil, err
	}
	if p == nil {
		return g, nil, apperr.NotFound("service", serviceID)
	}
	return g, p, nil
}

func cloneRuntime(rt models.Runtime) models.Runtime {
	b, _ := json.Marshal(rt)
	var out models.Runtime
	_ = json.Unmarshal(b, &out)
	return out
}

// transaction runs fn in a database transaction. Two writers that raced to
// create the same rows meet on a unique key, or on PostgreSQL deadlock on
// two of them; the loser gets a conflict to retry.
func (s *Service) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := s.db.WithContext(ctx).Transaction(fn)
	if errors.Is(err, gorm.ErrDuplicatedKey) || models.IsConcurrencyConflict(err) {
		return apperr.Conflict("another change to this service landed at the same time; try again")
	}
	return err
}
