package gateway

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
	"devportal/internal/apperr"
	"devportal/internal/dbtest"
	"devportal/internal/etcdtest"
)

func TestNodesOnlineThenOffline(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		lease, err := fx.cli.Grant(fx.ctx, 30)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := json.Marshal(apisix.ServerInfo{ID: "node-1", Hostname: "dp1", Version: "0.1", BootTime: time.Now().Unix()})
		key := apisix.Key(fx.group.Prefix, apisix.KindServerInfo, "node-1")
		if _, err := fx.cli.Put(fx.ctx, key, string(info), clientv3.WithLease(lease.ID)); err != nil {
			t.Fatal(err)
		}
		nodes, err := fx.svc.ListNodes(fx.ctx, fx.group.ID)
		if err != nil || len(nodes) != 1 || nodes[0].Status != NodeOnline || nodes[0].Hostname != "dp1" {
			t.Fatalf("nodes = %+v, %v", nodes, err)
		}
		// The node stops: its lease ends and the key goes with it.
		if _, err := fx.cli.Revoke(fx.ctx, lease.ID); err != nil {
			t.Fatal(err)
		}
		nodes, err = fx.svc.ListNodes(fx.ctx, fx.group.ID)
		if err != nil || len(nodes) != 1 || nodes[0].Status != NodeOffline {
			t.Fatalf("after stop: %+v, %v", nodes, err)
		}
		// Another group sees none of it.
		if other, _ := fx.svc.ListNodes(fx.ctx, DefaultGroupID); len(other) != 0 {
			t.Errorf("default group lists %+v", other)
		}
		if _, err := fx.svc.ListNodes(fx.ctx, "nope"); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("unknown group: %v", err)
		}
	})
}

// A group on its own etcd cluster: while that cluster is down a publish is
// recorded and queued; once it is back the outbox writes it to that cluster,
// never to the default one.
func TestPublishWhileGroupEtcdIsDown(t *testing.T) {
	own, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	fx := newFixture(t, dbtest.SQLite(t), WithDirectTimeout(300*time.Millisecond))
	g, err := fx.svc.CreateGroup(fx.ctx, GroupInput{Name: "own-cluster", Prefix: "/apisix", EtcdEndpoints: own.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	tpl := mustTemplate(t, fx, httpSpec("outage", "/o"))
	own.Stop()
	queued, err := fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: g.ID, Version: "1"})
	if err != nil || !queued.Pending {
		t.Fatalf("publish with etcd down: %+v, %v; want recorded and pending", queued, err)
	}
	if page, _ := fx.svc.ListServices(fx.ctx, g.ID, ListOptions{}); page.Total != 1 {
		t.Fatalf("the queued publish is not recorded: %+v", page)
	}
	if err := own.Restart(); err != nil {
		t.Fatal(err)
	}
	p := queued
	waitUntil(t, "queued publish applied after etcd restart", func() bool {
		fx.svc.DrainOutbox(fx.ctx)
		n, _ := fx.svc.PendingOutbox(fx.ctx)
		return n == 0
	})
	resp, err := own.Client(t).Get(fx.ctx, "/apisix/routes/"+p.Routes[0].ID)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("route not in the group's own etcd: %v", err)
	}
	// And not in the default cluster under the same prefix.
	if resp, _ := fx.cli.Get(fx.ctx, "/apisix/routes/"+p.Routes[0].ID); len(resp.Kvs) != 0 {
		t.Fatal("route written to the default cluster")
	}
}
