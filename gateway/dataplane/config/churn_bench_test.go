package config

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"devportal/internal/benchseed"
)

// cpuTime is the process's CPU time so far (user + system, all threads,
// the garbage collector's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op: on a shared machine the wall time per op
// counts the time other processes had the core, the CPU time does not.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// bigWhitelistRoute is a route as the control core writes it for an API with
// n approved subscriptions: key-auth, a consumer-restriction whitelist of n
// names and limit-count.
func bigWhitelistRoute(id string, n, extra int) Event {
	return bigWhitelistRouteAt(id, n, extra, 0)
}

// bigWhitelistRouteAt is bigWhitelistRoute as last written at unix time
// updated (0: without create_time and update_time).
func bigWhitelistRouteAt(id string, n, extra int, updated int64) Event {
	names := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("app_%d", i))
	}
	if extra >= 0 {
		names = append(names, fmt.Sprintf("app_x%d", extra))
	}
	route := map[string]any{"id": id, "uri": "/big" + id + "/*", "service_id": "s1",
		"labels": map[string]any{"managed_by": "devportal"},
		"plugins": map[string]any{
			"key-auth":             map[string]any{"hide_credentials": true},
			"consumer-restriction": map[string]any{"type": "consumer_name", "whitelist": names},
			"limit-count": map[string]any{"count": 1000, "time_window": 60, "key_type": "var", "key": "consumer_name",
				"rejected_code": 429, "policy": "local"},
		}}
	if updated != 0 {
		route["create_time"], route["update_time"] = int64(1763900000), updated
	}
	return put("routes/"+id, route)
}

// One subscription approved or revoked on an API whose route whitelists
// 100,000 consumers: the route's value is rewritten whole, one name added
// or removed at the end of the whitelist.
func BenchmarkApplyWhitelistChangeAt100k(b *testing.B) {
	benchWhitelistChange(b, []Event{bigWhitelistRoute("big", 100000, 1), bigWhitelistRoute("big", 100000, -1)})
}

// The same as the control core writes it: with update_time changed too.
func BenchmarkApplyWhitelistChangeAt100kUpdateTime(b *testing.B) {
	benchWhitelistChange(b, []Event{bigWhitelistRouteAt("big", 100000, 1, 1763900001), bigWhitelistRouteAt("big", 100000, -1, 1763900002)})
}

// benchWhitelistChange applies evs in turn to a route that is evs[1].
func benchWhitelistChange(b *testing.B, evs []Event) {
	kr := keyring(b)
	s := Apply(emptySnapshot(), []Event{
		put("services/s1", map[string]any{"id": "s1", "upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}}}),
		evs[1],
	}, prefix, kr, quiet)
	b.SetBytes(int64(len(evs[0].Value)))
	b.ReportAllocs()
	runtime.GC() // the setup's garbage is not the changes' cost
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		s = Apply(s, evs[i%2:i%2+1], prefix, kr, quiet)
	}
	b.StopTimer()
	reportCPU(b, cpu)
	if rt, ok := s.Route("big"); !ok || !rt.Plugins.Restriction.Allows("app_99999") {
		b.Fatal("whitelist not applied")
	}
}

var liveSnapshot *Snapshot

// BenchmarkLiveHeapAtScale reports what a snapshot of the churn benchmark's
// data set (10,000 routes, 100,000 consumers with a credential each, 10
// routes whitelisting all of them: internal/benchseed) keeps on the heap:
// what every garbage collection marks.
func BenchmarkLiveHeapAtScale(b *testing.B) {
	cfg := benchseed.Config{Prefix: prefix, Routes: 10000, Consumers: 100000, BigRoutes: 10, Whitelist: 20, Upstream: "127.0.0.1:1"}
	var events []Event
	if err := cfg.Data(func(kv benchseed.KV) error {
		events = append(events, Event{Key: kv.Key, Value: kv.Value})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	kr := keyring(b)
	var m0, m1 runtime.MemStats
	// What a collection has to scan (memory without pointers is not).
	scan := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	var scan0 uint64
	for b.Loop() {
		liveSnapshot = nil
		runtime.GC()
		runtime.ReadMemStats(&m0)
		metrics.Read(scan)
		scan0 = scan[0].Value.Uint64()
		s := Apply(emptySnapshot(), events, prefix, kr, quiet)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		metrics.Read(scan)
		liveSnapshot = s // kept for -memprofile, which is written after the benchmark
	}
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "live-MiB")
	b.ReportMetric(float64(scan[0].Value.Uint64()-scan0)/(1<<20), "scan-MiB")
	b.ReportMetric(float64(m1.HeapObjects-m0.HeapObjects), "live-objects")
}
