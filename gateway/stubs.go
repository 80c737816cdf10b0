package gateway

// Temporary: signatures the Admin API is built against while their bodies are
// written. Each moves to its own file when implemented.

import (
	"context"
	"errors"

	"devportal/models"
)

var errTODO = errors.New("gateway: not implemented yet")

func (s *Service) EnsureDefaults(ctx context.Context) error { return errTODO }
func (s *Service) ListGroups(ctx context.Context, o ListOptions) (Page[Group], error) {
	return Page[Group]{}, errTODO
}
func (s *Service) GetGroup(ctx context.Context, id string) (Group, error) { return Group{}, errTODO }
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (Group, error) {
	return Group{}, errTODO
}
func (s *Service) ListNodes(ctx context.Context, groupID string) ([]Node, error) { return nil, errTODO }
func (s *Service) ListPluginTemplates(ctx context.Context, o ListOptions) (Page[PluginTemplate], error) {
	return Page[PluginTemplate]{}, errTODO
}
func (s *Service) GetPluginTemplate(ctx context.Context, id string) (PluginTemplate, error) {
	return PluginTemplate{}, errTODO
}
func (s *Service) CreatePluginTemplate(ctx context.Context, in PluginTemplateInput) (PluginTemplate, error) {
	return PluginTemplate{}, errTODO
}
func (s *Service) UpdatePluginTemplate(ctx context.Context, id string, in PluginTemplateInput) (PluginTemplate, error) {
	return PluginTemplate{}, errTODO
}
func (s *Service) DeletePluginTemplate(ctx context.Context, id string) error { return errTODO }
func (s *Service) ListTemplates(ctx context.Context, o ListOptions) (Page[ServiceTemplate], error) {
	return Page[ServiceTemplate]{}, errTODO
}
func (s *Service) GetTemplate(ctx context.Context, id string) (ServiceTemplate, error) {
	return ServiceTemplate{}, errTODO
}
func (s *Service) CreateTemplate(ctx context.Context, in ServiceTemplateInput) (ServiceTemplate, error) {
	return ServiceTemplate{}, errTODO
}
func (s *Service) UpdateTemplate(ctx context.Context, id string, in ServiceTemplateInput) (ServiceTemplate, error) {
	return ServiceTemplate{}, errTODO
}
func (s *Service) DeleteTemplate(ctx context.Context, id string) error { return errTODO }
func (s *Service) Publish(ctx context.Context, templateID string, in PublishInput) (PublishedService, error) {
	return PublishedService{}, errTODO
}
func (s *Service) ListServices(ctx context.Context, groupID string, o ListOptions) (Page[PublishedService], error) {
	return Page[PublishedService]{}, errTODO
}
func (s *Service) GetService(ctx context.Context, groupID, serviceID string) (PublishedService, error) {
	return PublishedService{}, errTODO
}
func (s *Service) CreateService(ctx context.Context, groupID string, in DirectServiceInput) (PublishedService, error) {
	return PublishedService{}, errTODO
}
func (s *Service) UpdateService(ctx context.Context, groupID, serviceID string, in DirectServiceInput) (PublishedService, error) {
	return PublishedService{}, errTODO
}
func (s *Service) UpdateRuntime(ctx context.Context, groupID, serviceID string, rt models.Runtime) (PublishedService, error) {
	return PublishedService{}, errTODO
}
func (s *Service) DeleteService(ctx context.Context, groupID, serviceID string) error { return errTODO }
func (s *Service) History(ctx context.Context, groupID, serviceID string, o ListOptions) (Page[HistoryEntry], error) {
	return Page[HistoryEntry]{}, errTODO
}
func (s *Service) Rollback(ctx context.Context, groupID, serviceID string, in RollbackInput) (PublishedService, error) {
	return PublishedService{}, errTODO
}
