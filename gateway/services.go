package gateway

import (
	"context"
	"slices"

	"devportal/internal/apperr"
	"devportal/internal/listing"
	"devportal/models"
)

// ListServices lists the services published on a group, by name.
func (s *Service) ListServices(ctx context.Context, groupID string, o ListOptions) (Page[PublishedService], error) {
	g, err := s.group(ctx, s.db, groupID)
	if err != nil {
		return Page[PublishedService]{}, err
	}
	q := s.db.WithContext(ctx).Model(&models.PublishedService{}).Where("group_id = ?", g.ID)
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ? OR LOWER(service_id) LIKE ?", listing.Like(o.Search), listing.Like(o.Search))
	}
	// Index idx_published_group_name: (group_id, name, service_id).
	page, err := listing.Paginate(q, o, listing.By(func(p *models.PublishedService) []any { return []any{p.Name, p.ServiceID} },
		listing.Asc("name"), listing.Asc("service_id")))
	if err != nil {
		return Page[PublishedService]{}, err
	}
	return listing.Map(page, func(p models.PublishedService) PublishedService { return toPublished(&p) }), nil
}

// GetService returns one published service.
func (s *Service) GetService(ctx context.Context, groupID, serviceID string) (PublishedService, error) {
	_, p, err := s.groupAndService(ctx, s.db, groupID, serviceID)
	if err != nil {
		return PublishedService{}, err
	}
	return toPublished(p), nil
}

// History lists a service's past states on a group, newest first.
func (s *Service) History(ctx context.Context, groupID, serviceID string, o ListOptions) (Page[HistoryEntry], error) {
	g, _, err := s.groupAndService(ctx, s.db, groupID, serviceID)
	if err != nil {
		return Page[HistoryEntry]{}, err
	}
	q := s.db.WithContext(ctx).Model(&models.ServiceHistory{}).Where("group_id = ? AND service_id = ?", g.ID, serviceID)
	// Index idx_history_service_time: (group_id, service_id, created_at, id).
	page, err := listing.Paginate(q, o, listing.By(func(h *models.ServiceHistory) []any { return []any{h.CreatedAt, h.ID} },
		listing.Desc("created_at"), listing.Desc("id")))
	if err != nil {
		return Page[HistoryEntry]{}, err
	}
	return listing.Map(page, func(h models.ServiceHistory) HistoryEntry {
		return HistoryEntry{ID: h.ID, ServiceID: h.ServiceID, TemplateID: h.TemplateID, Version: h.Version,
			Reason: h.Reason, Spec: h.Spec.V, Runtime: h.Runtime.V, CreatedAt: h.CreatedAt}
	}), nil
}

func toPublished(p *models.PublishedService) PublishedService {
	spec, rt := p.Spec.V, p.Runtime.V
	out := PublishedService{ID: p.ServiceID, GatewayGroupID: p.GroupID, TemplateID: p.TemplateID, Version: p.Version,
		Name: spec.Name, Type: spec.Type, Spec: spec, Runtime: rt, PublishedAt: p.PublishedAt, UpdatedAt: p.UpdatedAt,
		Pending: p.Pending}
	for _, r := range spec.Routes {
		out.Routes = append(out.Routes, PublishedRoute{ID: p.RouteIDs.V[r.TemplateID], TemplateID: r.TemplateID,
			Name: r.Name, URIs: routeURIs(rt.PathPrefix, r.Paths), Methods: r.Methods})
	}
	for _, r := range spec.StreamRoutes {
		out.StreamRoutes = append(out.StreamRoutes, PublishedRoute{ID: p.RouteIDs.V[r.TemplateID], TemplateID: r.TemplateID,
			Name: r.Name, ServerPort: r.ServerPort})
	}
	return out
}

// TargetRef names what a portal API points at: a route of a published
// service, or the whole service when RouteID is empty.
type TargetRef struct {
	GroupID   string
	ServiceID string
	RouteID   string
}

// Target is a TargetRef as it runs now.
type Target struct {
	TargetRef
	ServiceName string
	Version     string
	URIs        []string // paths the API answers on, path prefix included
	Methods     []string // empty: every method
	Hosts       []string
}

// LookupTargets resolves many refs in one query; refs that no longer exist
// on their group (the route or service was deleted) are absent from the result.
func (s *Service) LookupTargets(ctx context.Context, refs []TargetRef) (map[TargetRef]Target, error) {
	out := map[TargetRef]Target{}
	if len(refs) == 0 {
		return out, nil
	}
	// Each id once: a catalog page's refs mostly share one group.
	groups, services := make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		groups[i], services[i] = r.GroupID, r.ServiceID
	}
	slices.Sort(groups)
	slices.Sort(services)
	groups, services = slices.Compact(groups), slices.Compact(services)
	var rows []models.PublishedService
	if err := s.db.WithContext(ctx).Where("group_id IN ? AND service_id IN ?", groups, services).Find(&rows).Error; err != nil {
		return nil, err
	}
	byKey := map[[2]string]*models.PublishedService{}
	for i := range rows {
		byKey[[2]string{rows[i].GroupID, rows[i].ServiceID}] = &rows[i]
	}
	for _, ref := range refs {
		p := byKey[[2]string{ref.GroupID, ref.ServiceID}]
		if p == nil {
			continue
		}
		pub := toPublished(p)
		t := Target{TargetRef: ref, ServiceName: pub.Name, Version: pub.Version, Hosts: pub.Runtime.Hosts}
		found := ref.RouteID == ""
		for _, r := range pub.Routes {
			if ref.RouteID == "" || r.ID == ref.RouteID {
				t.URIs = append(t.URIs, r.URIs...)
				if ref.RouteID != "" {
					t.Methods = r.Methods
					found = true
				}
			}
		}
		if found {
			out[ref] = t
		}
	}
	return out, nil
}

// LookupTarget resolves one ref; a ref that does not run is ErrNotFound.
func (s *Service) LookupTarget(ctx context.Context, ref TargetRef) (Target, error) {
	if _, err := s.group(ctx, s.db, ref.GroupID); err != nil {
		return Target{}, err
	}
	m, err := s.LookupTargets(ctx, []TargetRef{ref})
	if err != nil {
		return Target{}, err
	}
	t, ok := m[ref]
	if !ok {
		if ref.RouteID != "" {
			return Target{}, apperr.NotFound("route", ref.RouteID)
		}
		return Target{}, apperr.NotFound("service", ref.ServiceID)
	}
	return t, nil
}
