package gateway

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
)

// CreateTemplate adds a service template to the Service Hub. Nothing goes live.
func (s *Service) CreateTemplate(ctx context.Context, in ServiceTemplateInput) (ServiceTemplate, error) {
	if err := s.prepareSpec(ctx, s.db, &in, nil); err != nil {
		return ServiceTemplate{}, err
	}
	row := models.ServiceTemplate{ID: ids.New(), Name: in.Name, Type: in.Type, Spec: models.NewJSON(in)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return ServiceTemplate{}, err
	}
	return s.toTemplate(ctx, row)
}

// UpdateTemplate replaces a template's spec. Routes keep their template IDs
// when the input names them; published copies are untouched until the next publish.
func (s *Service) UpdateTemplate(ctx context.Context, id string, in ServiceTemplateInput) (ServiceTemplate, error) {
	var row models.ServiceTemplate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if row, err = s.template(ctx, tx, id); err != nil {
			return err
		}
		if err := s.prepareSpec(ctx, tx, &in, routeTemplateIDs(row.Spec.V)); err != nil {
			return err
		}
		row.Name, row.Type, row.Spec = in.Name, in.Type, models.NewJSON(in)
		return tx.Save(&row).Error
	})
	if err != nil {
		return ServiceTemplate{}, err
	}
	return s.toTemplate(ctx, row)
}

// DeleteTemplate removes a template that no group runs.
func (s *Service) DeleteTemplate(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := s.template(ctx, tx, id); err != nil {
			return err
		}
		var groups []string
		if err := tx.Model(&models.PublishedService{}).Where("template_id = ?", id).Pluck("group_id", &groups).Error; err != nil {
			return err
		}
		if len(groups) > 0 {
			return apperr.Conflict("service template %q is published on gateway group(s) %s: delete it there first",
				id, strings.Join(groups, ", "))
		}
		return tx.Delete(&models.ServiceTemplate{}, "id = ?", id).Error
	})
}

// ListTemplates lists templates by name.
func (s *Service) ListTemplates(ctx context.Context, o ListOptions) (Page[ServiceTemplate], error) {
	q := s.db.WithContext(ctx).Model(&models.ServiceTemplate{})
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ?", listing.Like(o.Search))
	}
	// Index idx_service_templates_name_id: (name, id).
	page, err := listing.Paginate(q, o, listing.By(func(t *models.ServiceTemplate) []any { return []any{t.Name, t.ID} },
		listing.Asc("name"), listing.Asc("id")))
	if err != nil {
		return Page[ServiceTemplate]{}, err
	}
	tids := make([]string, len(page.List))
	for i, r := range page.List {
		tids[i] = r.ID
	}
	refs, err := s.publishedRefs(ctx, tids)
	if err != nil {
		return Page[ServiceTemplate]{}, err
	}
	return listing.Map(page, func(r models.ServiceTemplate) ServiceTemplate { return templateView(r, refs[r.ID]) }), nil
}

// GetTemplate returns one template with where it is published.
func (s *Service) GetTemplate(ctx context.Context, id string) (ServiceTemplate, error) {
	row, err := s.template(ctx, s.db, id)
	if err != nil {
		return ServiceTemplate{}, err
	}
	return s.toTemplate(ctx, row)
}

func (s *Service) template(ctx context.Context, db *gorm.DB, id string) (models.ServiceTemplate, error) {
	var row models.ServiceTemplate
	err := db.WithContext(ctx).First(&row, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, apperr.NotFound("service template", id)
	}
	return row, err
}

// prepareSpec validates a spec, checks its plugin templates exist, and gives
// new routes their route template IDs.
func (s *Service) prepareSpec(ctx context.Context, db *gorm.DB, spec *models.ServiceSpec, known map[string]bool) error {
	spec.PluginConfigs = nil // only published copies carry snapshots
	if err := normalizeSpec(spec, known); err != nil {
		return err
	}
	var v apperr.Validator
	for i, r := range spec.Routes {
		if r.PluginTemplateID == "" {
			continue
		}
		if _, err := s.pluginTemplate(ctx, db, r.PluginTemplateID); errors.Is(err, apperr.ErrNotFound) {
			v.Add("routes["+itoa(i)+"].plugin_template_id", "plugin template %q does not exist", r.PluginTemplateID)
		} else if err != nil {
			return err
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	for i := range spec.Routes {
		if spec.Routes[i].TemplateID == "" {
			spec.Routes[i].TemplateID = ids.New()
		}
	}
	for i := range spec.StreamRoutes {
		if spec.StreamRoutes[i].TemplateID == "" {
			spec.StreamRoutes[i].TemplateID = ids.New()
		}
	}
	return nil
}

func routeTemplateIDs(spec models.ServiceSpec) map[string]bool {
	out := map[string]bool{}
	for _, r := range spec.Routes {
		out[r.TemplateID] = true
	}
	for _, r := range spec.StreamRoutes {
		out[r.TemplateID] = true
	}
	return out
}

func (s *Service) toTemplate(ctx context.Context, row models.ServiceTemplate) (ServiceTemplate, error) {
	refs, err := s.publishedRefs(ctx, []string{row.ID})
	if err != nil {
		return ServiceTemplate{}, err
	}
	return templateView(row, refs[row.ID]), nil
}

func templateView(row models.ServiceTemplate, refs []PublishedRef) ServiceTemplate {
	return ServiceTemplate{ID: row.ID, ServiceSpec: row.Spec.V, Published: refs, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
}

// publishedRefs tells, for each template, where it is published.
func (s *Service) publishedRefs(ctx context.Context, templateIDs []string) (map[string][]PublishedRef, error) {
	out := map[string][]PublishedRef{}
	if len(templateIDs) == 0 {
		return out, nil
	}
	var rows []models.PublishedService
	err := s.db.WithContext(ctx).Select("group_id", "service_id", "template_id", "version").
		Where("template_id IN ?", templateIDs).Order("group_id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.TemplateID] = append(out[r.TemplateID], PublishedRef{GatewayGroupID: r.GroupID, ServiceID: r.ServiceID, Version: r.Version})
	}
	return out, nil
}
