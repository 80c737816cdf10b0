package leader

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/internal/etcdtest"
)

var member *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &member) }

// Three replicas campaign; exactly one leads at any time, and when the
// leader's process dies (its etcd client goes away without resigning) another
// takes over within the session TTL.
func TestOneLeaderAndFailover(t *testing.T) {
	name := etcdtest.Prefix(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var leading, maxLeading atomic.Int32
	var mu sync.Mutex
	leaders := map[int]bool{}
	clients := make([]*clientv3.Client, 3)
	cancels := make([]context.CancelFunc, 3)
	var wg sync.WaitGroup
	for i := range clients {
		cli, err := clientv3.New(clientv3.Config{Endpoints: member.Endpoints(), DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = cli
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			Run(ctx, cli, name, 2, log, func(ctx context.Context) {
				n := leading.Add(1)
				for {
					if m := maxLeading.Load(); n <= m || maxLeading.CompareAndSwap(m, n) {
						break
					}
				}
				mu.Lock()
				leaders[i] = true
				mu.Unlock()
				<-ctx.Done()
				leading.Add(-1)
			})
		}(i)
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
	}()
	first := waitLeader(t, &mu, leaders, nil)
	// The leader's process dies: no resign, its lease just expires.
	clients[first].Close()
	cancels[first]()
	waitLeader(t, &mu, leaders, map[int]bool{first: true})
	if maxLeading.Load() != 1 {
		t.Fatalf("%d replicas led at once", maxLeading.Load())
	}
}

func waitLeader(t *testing.T, mu *sync.Mutex, leaders map[int]bool, except map[int]bool) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		for i := range leaders {
			if !except[i] {
				mu.Unlock()
				return i
			}
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return -1
}
