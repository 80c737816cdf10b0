package gateway

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
	"devportal/internal/dbtest"
)

// opsSource is a StateSource with fixed ops, standing in for the portal.
type opsSource []Op

func (o opsSource) GroupOps(context.Context, string) ([]Op, error) { return o, nil }

func withoutTimes(kv map[string]map[string]any) map[string]map[string]any {
	for _, v := range kv {
		delete(v, "create_time")
		delete(v, "update_time")
	}
	return kv
}

func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		p := mustPublish(t, fx, mustTemplate(t, fx, httpSpec("rec", "/rec")).ID, PublishInput{Version: "1"})
		rid := p.Routes[0].ID
		kr, _ := apisix.NewKeyring(apisix.DefaultKeyring)
		src := opsSource{
			{Kind: OpConsumerPut, Username: "app_1", Labels: map[string]string{"application_id": "1"}},
			{Kind: OpCredentialPut, Username: "app_1", CredentialID: "c1", EncryptedKey: kr.Encrypt("k1"), Labels: map[string]string{"application_id": "1"}},
			{Kind: OpRoutePolicy, RouteID: rid, KeyAuth: true, RateLimit: &RateLimit{Count: 3, TimeWindow: 60}},
			{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_1"},
			{Kind: OpWhitelistAdd, RouteID: rid, Username: "app_2"},
		}
		fx.enqueue(t, src...)
		fx.drain(t)
		rep, err := fx.svc.Diff(fx.ctx, fx.group.ID, src)
		if err != nil || len(rep.Drift) != 0 || rep.Checked != 5 {
			t.Fatalf("clean group: %+v, %v", rep, err)
		}
		good := withoutTimes(fx.dump(t, fx.group.Prefix))

		// Drift made by hand in etcd.
		routeKey := fx.group.Prefix + "/routes/" + rid
		resp, _ := fx.cli.Get(fx.ctx, routeKey)
		edited := strings.Replace(string(resp.Kvs[0].Value), `"app_1",`, ``, 1)
		edited = strings.Replace(edited, `"uri":"/rec"`, `"uri":"/hacked"`, 1)
		fx.cli.Put(fx.ctx, routeKey, edited)
		fx.cli.Delete(fx.ctx, fx.group.Prefix+"/consumers/app_1/credentials/c1")
		fx.cli.Put(fx.ctx, fx.group.Prefix+"/routes/stray", `{"id":"stray","uri":"/s","labels":{"managed_by":"devportal"}}`)
		fx.cli.Put(fx.ctx, fx.group.Prefix+"/routes/foreign", `{"id":"foreign","uri":"/f"}`)

		rep, err = fx.svc.Diff(fx.ctx, fx.group.ID, src)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, d := range rep.Drift {
			got[d.Kind+"/"+d.ID] = d.Issue + " " + strings.Join(d.Fields, ",")
		}
		want := map[string]string{
			"routes/" + rid:        "changed plugins.consumer-restriction,uri",
			"credentials/app_1/c1": "missing ",
			"routes/stray":         "unexpected ",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("drift = %v\nwant %v", got, want)
		}
		rep, err = fx.svc.Reconcile(fx.ctx, fx.group.ID, src)
		if err != nil || rep.Repaired != 3 {
			t.Fatalf("reconcile: %+v, %v", rep, err)
		}
		after := withoutTimes(fx.dump(t, fx.group.Prefix))
		if _, ok := after["/routes/foreign"]; !ok {
			t.Fatal("a key the product did not write was removed")
		}
		delete(after, "/routes/foreign")
		if !reflect.DeepEqual(after, good) {
			t.Fatalf("after repair:\n%v\nwant\n%v", after, good)
		}

		// Wiping the whole prefix and reconciling restores it exactly, keys included.
		fx.cli.Delete(fx.ctx, fx.group.Prefix+"/", clientv3.WithPrefix())
		if _, err := fx.svc.Reconcile(fx.ctx, fx.group.ID, src); err != nil {
			t.Fatal(err)
		}
		if restored := withoutTimes(fx.dump(t, fx.group.Prefix)); !reflect.DeepEqual(restored, good) {
			t.Fatalf("restored:\n%v\nwant\n%v", restored, good)
		}
		if rep, _ := fx.svc.Diff(fx.ctx, fx.group.ID, src); len(rep.Drift) != 0 {
			t.Fatalf("drift after restore: %+v", rep.Drift)
		}
	})
}

// A reconcile running while services are published never reverts a
// publish: after each round (one publish and one reconcile started
// together, at staggered offsets) etcd is what the database says.
func TestReconcileRacingPublishesRevertsNothing(t *testing.T) {
	fx := newFixture(t, dbtest.SQLite(t), WithReconcileSettle(30*time.Millisecond))
	tpl := mustTemplate(t, fx, httpSpec("race", "/race"))
	for round := 0; round < 40; round++ {
		var wg sync.WaitGroup
		wg.Go(func() {
			time.Sleep(time.Duration(round%8) * time.Millisecond)
			if _, err := fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: fx.group.ID, Version: fmt.Sprint("v", round)}); err != nil {
				t.Errorf("round %d: publish: %v", round, err)
			}
		})
		wg.Go(func() {
			if _, err := fx.svc.Reconcile(fx.ctx, fx.group.ID, nil); err != nil {
				t.Errorf("round %d: reconcile: %v", round, err)
			}
		})
		wg.Wait()
		rep, err := fx.svc.Diff(fx.ctx, fx.group.ID, nil)
		if err != nil || len(rep.Drift) != 0 {
			t.Fatalf("round %d: etcd differs from the database after a racing reconcile: %+v, %v", round, rep.Drift, err)
		}
	}
}
