package gateway

import (
	"context"
	"encoding/json"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm/clause"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/models"
)

// ListNodes lists a group's data plane nodes: online while the node's leased
// key P/data_plane/server_info/<id> exists, offline once it has expired.
// Nodes seen once are remembered, so a stopped node shows as offline.
func (s *Service) ListNodes(ctx context.Context, groupID string) ([]Node, error) {
	g, err := s.group(ctx, s.db, groupID)
	if err != nil {
		return nil, err
	}
	cli, err := s.client(g)
	if err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := cli.Get(clientv3.WithRequireLeader(tctx), apisix.Dir(g.Prefix, apisix.KindServerInfo), clientv3.WithPrefix())
	if err != nil {
		return nil, apperr.Unavailable("etcd", err)
	}
	now := s.now()
	online := map[string]bool{}
	for _, kv := range resp.Kvs {
		var info apisix.ServerInfo
		if json.Unmarshal(kv.Value, &info) != nil {
			continue
		}
		pk, ok := apisix.ParseKey(g.Prefix, string(kv.Key))
		if !ok || pk.Kind != apisix.KindServerInfo {
			continue
		}
		online[pk.ID] = true
		row := models.DataPlaneNode{GroupID: g.ID, NodeID: pk.ID, Hostname: info.Hostname,
			Version: info.Version, Address: info.Address, BootTime: time.Unix(info.BootTime, 0).UTC(), LastSeen: now}
		err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
		if err != nil {
			return nil, err
		}
	}
	var rows []models.DataPlaneNode
	if err := s.db.WithContext(ctx).Where("group_id = ?", g.ID).Order("node_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Node, len(rows))
	for i, r := range rows {
		st := NodeOffline
		if online[r.NodeID] {
			st = NodeOnline
		}
		out[i] = Node{ID: r.NodeID, Hostname: r.Hostname, Version: r.Version, Address: r.Address,
			Status: st, BootTime: r.BootTime, LastSeen: r.LastSeen}
	}
	return out, nil
}
