package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/internal/etcdtest"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

func always([]byte) bool { return true }

// Concurrent read-modify-writes of one key through Apply lose no update.
func TestApplyLosesNoUpdate(t *testing.T) {
	cli := member.Client(t)
	ctx := context.Background()
	key := etcdtest.Prefix(t) + "/counter"
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := Apply(ctx, cli, Plan{Puts: []Put{{Key: key, MayReplace: always, Build: func(cur []byte) ([]byte, error) {
					n, _ := strconv.Atoi(string(cur))
					return []byte(strconv.Itoa(n + 1)), nil
				}}}}, 128)
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	resp, _ := cli.Get(ctx, key)
	if got := string(resp.Kvs[0].Value); got != strconv.Itoa(writers*each) {
		t.Fatalf("counter = %s, want %d", got, writers*each)
	}
}

func TestApplyRules(t *testing.T) {
	cli := member.Client(t)
	ctx := context.Background()
	p := etcdtest.Prefix(t)
	cli.Put(ctx, p+"/foreign", "x")
	cli.Put(ctx, p+"/dir/a", "1")
	cli.Put(ctx, p+"/dir/b", "2")
	set := func(v string) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) { return []byte(v), nil }
	}

	// A key that is not ours is not overwritten, and nothing else of the plan lands.
	_, err := Apply(ctx, cli, Plan{Puts: []Put{{Key: p + "/new", Build: set("n")}, {Key: p + "/foreign", Build: set("y")}}}, 128)
	if !errors.Is(err, ErrKeyTaken) {
		t.Fatalf("err = %v", err)
	}
	if r, _ := cli.Get(ctx, p+"/new"); len(r.Kvs) != 0 {
		t.Fatal("half a plan was written")
	}
	// Over the operation limit: refused before anything is sent.
	plan := Plan{}
	for i := 0; i < 5; i++ {
		plan.Puts = append(plan.Puts, Put{Key: fmt.Sprint(p, "/k", i), Build: set("v")})
	}
	if _, err := Apply(ctx, cli, plan, 4); !errors.Is(err, ErrTooManyOps) {
		t.Fatalf("err = %v", err)
	}
	// Build returning nil deletes; prefixes go whole; one write, two round trips.
	res, err := Apply(ctx, cli, Plan{
		Puts:           []Put{{Key: p + "/foreign", MayReplace: always, Build: func([]byte) ([]byte, error) { return nil, nil }}},
		DeletePrefixes: []string{p + "/dir/"},
	}, 128)
	if err != nil || res.RoundTrips != 2 || res.Attempts != 1 {
		t.Fatalf("res = %+v, %v", res, err)
	}
	if r, _ := cli.Get(ctx, p+"/", clientv3.WithPrefix()); len(r.Kvs) != 0 {
		t.Fatalf("left: %v", r.Kvs)
	}
	// ErrSkip leaves one key untouched while the rest of the plan lands.
	cli.Put(ctx, p+"/kept", "mine")
	skip := func([]byte) ([]byte, error) { return nil, ErrSkip }
	if _, err := Apply(ctx, cli, Plan{Puts: []Put{{Key: p + "/kept", MayReplace: always, Build: skip},
		{Key: p + "/written", Build: set("w")}}}, 128); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"/kept": "mine", "/written": "w"} {
		if r, _ := cli.Get(ctx, p+key); len(r.Kvs) != 1 || string(r.Kvs[0].Value) != want {
			t.Fatalf("%s = %v, want %q", key, r.Kvs, want)
		}
	}
}
