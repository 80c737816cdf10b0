package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm"

	"devportal/internal/apperr"
	"devportal/internal/ids"
	"devportal/internal/listing"
	"devportal/models"
)

var prefixPattern = regexp.MustCompile(`^(/[A-Za-z0-9_.\-]+)+$`)

// EnsureDefaults creates the default group (prefix /apisix) when missing.
func (s *Service) EnsureDefaults(ctx context.Context) error {
	g := models.GatewayGroup{ID: DefaultGroupID, Name: DefaultGroupID, Prefix: DefaultGroupPrefix,
		Description: "The default gateway group."}
	err := s.db.WithContext(ctx).Where(models.GatewayGroup{ID: DefaultGroupID}).
		Attrs(g).FirstOrCreate(&models.GatewayGroup{}).Error
	if err != nil {
		return fmt.Errorf("gateway: default group: %w", err)
	}
	return nil
}

// CreateGroup adds a gateway group with its own prefix.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (Group, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.Prefix = strings.TrimRight(strings.TrimSpace(in.Prefix), "/")
	id := ids.New()
	if in.Prefix == "" {
		in.Prefix = "/apisix_" + id
	}
	var v apperr.Validator
	v.Check(in.Name != "", "name", "is required")
	v.Check(len(in.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(in.Description) <= 2000, "description", "must be at most 2000 characters")
	v.Check(prefixPattern.MatchString(in.Prefix) && len(in.Prefix) <= 200, "prefix",
		"must look like /name or /a/b: segments of letters, digits, '_', '-', '.'")
	for i, ep := range in.EtcdEndpoints {
		v.Check(strings.HasPrefix(ep, "http://") || strings.HasPrefix(ep, "https://"),
			fmt.Sprintf("etcd_endpoints[%d]", i), "must be an http:// or https:// URL")
	}
	if err := v.Err(); err != nil {
		return Group{}, err
	}
	row := models.GatewayGroup{ID: id, Name: in.Name, Description: in.Description, Prefix: in.Prefix,
		EtcdEndpoints: models.NewJSON(in.EtcdEndpoints)}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var others []models.GatewayGroup
		if err := tx.Find(&others).Error; err != nil {
			return err
		}
		for _, o := range others {
			if strings.EqualFold(o.Name, in.Name) {
				return apperr.Conflict("a gateway group named %q exists", in.Name)
			}
			if sameCluster(o.EtcdEndpoints.V, in.EtcdEndpoints) && prefixesOverlap(o.Prefix, in.Prefix) {
				return apperr.Conflict("prefix %q overlaps group %q's prefix %q on the same etcd", in.Prefix, o.Name, o.Prefix)
			}
		}
		return tx.Create(&row).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Group{}, apperr.Conflict("a gateway group named %q exists", in.Name)
	}
	if err != nil {
		return Group{}, err
	}
	return toGroup(row), nil
}

// sameCluster treats empty endpoint lists as the default cluster.
func sameCluster(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// prefixesOverlap: one group's keys would fall under the other's prefix.
func prefixesOverlap(a, b string) bool {
	return a == b || strings.HasPrefix(a+"/", b+"/") || strings.HasPrefix(b+"/", a+"/")
}

// ListGroups lists groups by name.
func (s *Service) ListGroups(ctx context.Context, o ListOptions) (Page[Group], error) {
	q := s.db.WithContext(ctx).Model(&models.GatewayGroup{})
	if o.Search != "" {
		q = q.Where("LOWER(name) LIKE ?", listing.Like(o.Search))
	}
	// name is unique (its index orders the list): the order is total.
	page, err := listing.Paginate(q, o, listing.By(func(g *models.GatewayGroup) []any { return []any{g.Name} }, listing.Asc("name")))
	if err != nil {
		return Page[Group]{}, err
	}
	return listing.Map(page, toGroup), nil
}

// GetGroup returns one group.
func (s *Service) GetGroup(ctx context.Context, id string) (Group, error) {
	row, err := s.group(ctx, s.db, id)
	if err != nil {
		return Group{}, err
	}
	return toGroup(row), nil
}

func (s *Service) group(ctx context.Context, db *gorm.DB, id string) (models.GatewayGroup, error) {
	var row models.GatewayGroup
	err := db.WithContext(ctx).First(&row, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, apperr.NotFound("gateway group", id)
	}
	return row, err
}

// client is the etcd client of a group's cluster.
func (s *Service) client(g models.GatewayGroup) (*clientv3.Client, error) {
	cli, err := s.etcd.For(g.EtcdEndpoints.V)
	if err != nil {
		return nil, apperr.Unavailable("etcd", err)
	}
	return cli, nil
}

func toGroup(r models.GatewayGroup) Group {
	return Group{ID: r.ID, Name: r.Name, Description: r.Description, Prefix: r.Prefix,
		EtcdEndpoints: r.EtcdEndpoints.V, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
