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

// ApplyKnown writes a key it remembers without reading it first, and still
// loses no update when another writer changed the key meanwhile.
func TestApplyKnown(t *testing.T) {
	cli := member.Client(t)
	ctx := context.Background()
	p := etcdtest.Prefix(t)
	known := NewKnown(16, 1<<20)
	incr := func(key string) Plan {
		return Plan{Puts: []Put{{Key: key, MayReplace: always, Build: func(cur []byte) ([]byte, error) {
			n, _ := strconv.Atoi(string(cur))
			return []byte(strconv.Itoa(n + 1)), nil
		}}}}
	}
	apply := func(plan Plan, trips int) {
		t.Helper()
		res, err := ApplyKnown(ctx, cli, plan, 128, known)
		if err != nil || res.RoundTrips != trips {
			t.Fatalf("res = %+v, %v; want %d round trips", res, err, trips)
		}
	}
	get := func(key string) string {
		t.Helper()
		r, err := cli.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Kvs) == 0 {
			return "<absent>"
		}
		return string(r.Kvs[0].Value)
	}
	apply(incr(p+"/n"), 2) // unknown: read, then write
	apply(incr(p+"/n"), 1) // known: write only
	apply(incr(p+"/n"), 1)
	if got := get(p + "/n"); got != "3" {
		t.Fatalf("n = %s", got)
	}
	// Another writer: the write on the remembered value is refused, and the
	// key read again, so its update is kept.
	cli.Put(ctx, p+"/n", "10")
	apply(incr(p+"/n"), 3)
	if got := get(p + "/n"); got != "11" {
		t.Fatalf("n = %s after another writer, want 11", got)
	}
	// A deletion is remembered as an absent key; so is a key another writer
	// created since: no write lands on a stale value.
	apply(Plan{Deletes: []string{p + "/n"}}, 1)
	cli.Put(ctx, p+"/n", "20")
	apply(incr(p+"/n"), 3)
	if got := get(p + "/n"); got != "21" {
		t.Fatalf("n = %s, want 21", got)
	}
	// A refusal on a remembered value is checked against etcd (a read and a
	// write): the key is the writer's own again.
	mine := func(cur []byte) bool { return string(cur) != "foreign" }
	apply(Plan{Puts: []Put{{Key: p + "/o", MayReplace: mine, Build: func([]byte) ([]byte, error) { return []byte("foreign"), nil }}}}, 2)
	cli.Put(ctx, p+"/o", "released")
	apply(Plan{Puts: []Put{{Key: p + "/o", MayReplace: mine, Build: func([]byte) ([]byte, error) { return []byte("mine"), nil }}}}, 2)
	if got := get(p + "/o"); got != "mine" {
		t.Fatalf("o = %s", got)
	}
	// Keys under a deleted prefix are forgotten.
	apply(incr(p+"/dir/a"), 2)
	apply(Plan{DeletePrefixes: []string{p + "/dir/"}}, 2) // (no keys to read: counted all the same)
	apply(incr(p+"/dir/a"), 2)
	if got := get(p + "/dir/a"); got != "1" {
		t.Fatalf("dir/a = %s", got)
	}
	// Bounded: a value over an eighth of the bytes is not kept.
	big := NewKnown(16, 64)
	for range 2 {
		res, err := ApplyKnown(ctx, cli, Plan{Puts: []Put{{Key: p + "/big", MayReplace: always, Build: func([]byte) ([]byte, error) {
			return []byte("0123456789abcdef"), nil
		}}}}, 128, big)
		if err != nil || res.RoundTrips != 2 {
			t.Fatalf("big value: res = %+v, %v; want it read each time", res, err)
		}
	}
}
