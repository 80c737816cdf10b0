package plugin

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// A consumer remembers its last whitelist answer; a whitelist that changed
// (spliced, rebuilt, or another route's) answers anew, never from memory.
func TestRestrictionMemoFollowsTheList(t *testing.T) {
	for _, n := range []int{3, 2000} { // a small set and a sharded one
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			list := make([]string, n)
			for i := range list {
				list[i] = fmt.Sprintf("app_%d", i)
			}
			conf := func(l []string, typ string) json.RawMessage {
				b, _ := json.Marshal(map[string]any{"type": typ, "whitelist": l})
				return b
			}
			with, err := newRestriction(conf(list, "consumer_name"), nil)
			if err != nil {
				t.Fatal(err)
			}
			// app_1 revoked: spliced from the previous restriction.
			without, err := CompileScopedFrom(map[string]json.RawMessage{"consumer-restriction": conf(append(list[:1:1], list[2:]...), "consumer_name")}, nil, "r", &Set{Restriction: with})
			if err != nil {
				t.Fatal(err)
			}
			jack := &Consumer{Username: "app_1", GroupID: "app_1"}
			access := func(r *Restriction) bool { return r.Access(&Ctx{Consumer: jack}) == nil }
			for i := 0; i < 3; i++ {
				if !access(with) {
					t.Fatalf("round %d: whitelisted consumer rejected", i)
				}
				if access(without.Restriction) {
					t.Fatalf("round %d: revoked consumer let through (memory of the old list)", i)
				}
			}
			// The same names as a group list: the group id is looked up,
			// not the username's remembered answer.
			groups, err := newRestriction(conf([]string{"other"}, "consumer_group_id"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if access(groups) || !access(with) || access(groups) {
				t.Fatal("group list answered from the username's memory")
			}
			// Another consumer object (rebuilt, same name) starts empty.
			if jack2 := jack.WithCredential("c1"); with.Access(&Ctx{Consumer: jack2}) != nil {
				t.Fatal("rebuilt consumer rejected")
			}
		})
	}
}

// A consumer's remembered window counts with the table's: requests through
// memory and through the table share one window, a swept window is not
// counted in, and another store's window is never taken.
func TestLimitCountMemo(t *testing.T) {
	now := time.Unix(1000, 0)
	store := NewCounters(func() time.Time { return now })
	other := NewCounters(func() time.Time { return now })
	raw := json.RawMessage(`{"count":3,"time_window":60,"key_type":"var","key":"consumer_name","rejected_code":429}`)
	l, err := NewLimitCount(raw, "route:1")
	if err != nil {
		t.Fatal(err)
	}
	l.WithCounters(store)
	jack := &Consumer{Username: "jack"}
	rebuilt := jack.WithCredential("") // same name, no memory
	run := func(l *LimitCount, c *Consumer) int {
		ctx := &Ctx{Consumer: c, RemoteAddr: "127.0.0.1"}
		if r := l.Access(ctx); r != nil {
			return r.Status
		}
		return 200
	}
	got := []int{run(l, jack), run(l, jack), run(l, rebuilt), run(l, jack)}
	if fmt.Sprint(got) != "[200 200 200 429]" {
		t.Fatalf("memory and table counted apart: %v", got)
	}
	// The same consumer on a limit counted in another store.
	l2, _ := NewLimitCount(raw, "route:1")
	l2.WithCounters(other)
	if s := run(l2, jack); s != 200 {
		t.Fatalf("other store: %d (took the remembered window)", s)
	}
	// The window ends and is swept; the remembered one must not count on.
	now = now.Add(61 * time.Second)
	store.Sweep()
	got = []int{run(l, jack), run(l, rebuilt), run(l, jack), run(l, jack)}
	if fmt.Sprint(got) != "[200 200 200 429]" {
		t.Fatalf("after the sweep: %v", got)
	}
	if n := countWindows(store); n != 1 {
		t.Fatalf("%d windows in the table, want 1", n)
	}
}

func countWindows(c *Counters) int {
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	return n
}
