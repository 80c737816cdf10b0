package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
)

// validatePluginTemplate checks a plugin template as APISIX would take it:
// known plugin names, each configured with an object.
func validatePluginTemplate(in *PluginTemplateInput) error {
	in.Name = strings.TrimSpace(in.Name)
	var v apperr.Validator
	v.Check(in.Name != "", "name", "is required")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(in.Description) <= 2000, "description", "must be at most 2000 characters")
	v.Check(len(in.Plugins) > 0, "plugins", "must name at least one plugin")
	names := make([]string, 0, len(in.Plugins))
	for name := range in.Plugins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		field := "plugins." + name
		switch {
		case apisix.ManagedPlugins[name]:
			v.Add(field, "is set by the portal's API policies (auth, subscriptions, rate limit), not by plugin templates")
		case !apisix.BundledPlugins[name]:
			v.Add(field, "is not an APISIX plugin")
		default:
			if _, ok := in.Plugins[name].(map[string]any); !ok {
				v.Add(field, "must be a JSON object")
			}
		}
	}
	if b, err := json.Marshal(in.Plugins); err == nil && len(b) > 512*1024 {
		v.Add("plugins", "must be at most 512 KiB of JSON")
	}
	return v.Err()
}

// CreatePluginTemplate adds a plugin template.
func (s *Service) CreatePluginTemplate(ctx context.Context, in PluginTemplateInput) (PluginTemplate, error) {
	if err := validatePluginTemplate(&in); err != nil {
		return PluginTemplate{}, err
	}
	row := models.PluginTemplate{ID: ids.New(), Name: in.Name, Description: in.Description,
		Plugins: models.NewJSON(in.Plugins)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return PluginTemplate{}, apperr.Conflict("a plugin template named %q exists", in.Name)
		}
		return PluginTemplate{}, err
	}
	return toPluginTemplate(row), nil
}

// UpdatePluginTemplate replaces a plugin template. Services already published
// keep the plugins they were published with until their next publish.
func (s *Service) UpdatePluginTemplate(ctx context.Context, id string, in PluginTemplateInput) (PluginTemplate, error) {
	if err := validatePluginTemplate(&in); err != nil {
		return PluginTemplate{}, err
	}
	row, err := s.pluginTemplate(ctx, s.db, id)
	if err != nil {
		return PluginTemplate{}, err
	}
	row.Name, row.Description, row.Plugins = in.Name, in.Description, models.NewJSON(in.Plugins)
	if err := s.db.WithContext(ctx).Save(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return PluginTemplate{}, apperr.Conflict("a plugin template named %q exists", in.Name)
		}
		return PluginTemplate{}, err
	}
	return toPluginTemplate(row), nil
}

// DeletePluginTemplate removes a plugin template that no service template uses.
func (s *Service) DeletePluginTemplate(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := s.pluginTemplate(ctx, tx, id); err != nil {
			return err
		}
		users, err := templatesUsingPlugin(tx, id)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return apperr.Conflict("plugin template %q is used by service template(s) %s", id, strings.Join(users, ", "))
		}
		return tx.Delete(&models.PluginTemplate{}, "id = ?", id).Error
	})
}

// templatesUsingPlugin names the service templates whose routes use a plugin template.
func templatesUsingPlugin(tx *gorm.DB, pluginTemplateID string) ([]string, error) {
	var rows []models.ServiceTemplate
	// The spec is JSON text; narrow with LIKE, then check exactly.
	if err := tx.Where("spec LIKE ?", "%"+pluginTemplateID+"%").Find(&rows).Error; err != nil {
		return nil, err
	}
	var names []string
	for _, r := range rows {
		for _, rt := range r.Spec.V.Routes {
			if rt.PluginTemplateID == pluginTemplateID {
				names = append(names, fmt.Sprintf("%q", r.Name))
				break
			}
		}
	}
	return names, nil
}

// ListPluginTemplates lists plugin templates by name.
func (s *Service) ListPluginTemplates(ctx context.Context, o ListOptions) (Page[PluginTemplate], error) {
	q := s.db.WithContext(ctx).Model(&models.PluginTemplate{})
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ?", listing.Like(o.Search))
	}
	// name is unique (its index orders the list): the order is total.
	page, err := listing.Paginate(q, o, listing.By(func(p *models.PluginTemplate) []any { return []any{p.Name} }, listing.Asc("name")))
	if err != nil {
		return Page[PluginTemplate]{}, err
	}
	return listing.Map(page, toPluginTemplate), nil
}

// GetPluginTemplate returns one plugin template.
func (s *Service) GetPluginTemplate(ctx context.Context, id string) (PluginTemplate, error) {
	row, err := s.pluginTemplate(ctx, s.db, id)
	if err != nil {
		return PluginTemplate{}, err
	}
	return toPluginTemplate(row), nil
}

func (s *Service) pluginTemplate(ctx context.Context, db *gorm.DB, id string) (models.PluginTemplate, error) {
	var row models.PluginTemplate
	err := db.WithContext(ctx).First(&row, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, apperr.NotFound("plugin template", id)
	}
	return row, err
}

func toPluginTemplate(r models.PluginTemplate) PluginTemplate {
	return PluginTemplate{ID: r.ID, Name: r.Name, Description: r.Description, Plugins: r.Plugins.V,
		Warnings: nodeWarnings(r.Plugins.V), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// nodeWarnings names the plugins the built-in data plane node will not run.
func nodeWarnings(plugins map[string]any) []string {
	var out []string
	for name := range plugins {
		if !apisix.NodePlugins[name] && !apisix.ObservingPlugins[name] {
			out = append(out, fmt.Sprintf("%s: the built-in data plane node does not run this plugin and skips routes that use it; APISIX nodes run it", name))
		}
	}
	sort.Strings(out)
	return out
}
