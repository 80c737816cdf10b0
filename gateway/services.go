package gateway

import (
	"context"

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
		q = q.Where("LOWER(name) LIKE ? OR LOWER(service_id) LIKE ?", likePattern(o.Search), likePattern(o.Search))
	}
	var rows []models.PublishedService
	total, err := paginate(q, o, "name, service_id", &rows)
	if err != nil {
		return Page[PublishedService]{}, err
	}
	out := Page[PublishedService]{List: make([]PublishedService, len(rows)), Total: total}
	for i := range rows {
		out.List[i] = toPublished(&rows[i])
	}
	return out, nil
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
	var rows []models.ServiceHistory
	total, err := paginate(q, o, "created_at DESC, id DESC", &rows)
	if err != nil {
		return Page[HistoryEntry]{}, err
	}
	out := Page[HistoryEntry]{List: make([]HistoryEntry, len(rows)), Total: total}
	for i, h := range rows {
		out.List[i] = HistoryEntry{ID: h.ID, ServiceID: h.ServiceID, TemplateID: h.TemplateID, Version: h.Version,
			Reason: h.Reason, Spec: h.Spec.V, Runtime: h.Runtime.V, CreatedAt: h.CreatedAt}
	}
	return out, nil
}

func toPublished(p *models.PublishedService) PublishedService {
	spec, rt := p.Spec.V, p.Runtime.V
	out := PublishedService{ID: p.ServiceID, GatewayGroupID: p.GroupID, TemplateID: p.TemplateID, Version: p.Version,
		Name: spec.Name, Type: spec.Type, Spec: spec, Runtime: rt, PublishedAt: p.PublishedAt, UpdatedAt: p.UpdatedAt}
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
