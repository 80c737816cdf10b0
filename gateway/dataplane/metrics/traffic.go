package metrics

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latencyBuckets are apisix_http_latency's upper bounds, in milliseconds.
var latencyBuckets = [nBuckets]float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000}

const nBuckets = 15

// bucketBounds are latencyBuckets as durations, for the hot path.
var bucketBounds = func() [nBuckets]time.Duration {
	var out [nBuckets]time.Duration
	for i, ms := range latencyBuckets {
		out[i] = time.Duration(ms * float64(time.Millisecond))
	}
	return out
}()

// traffic is apisix_http_status and apisix_http_latency: one series per
// (route, consumer, status code), each a set of atomic counters. A request
// costs a map lookup under a shard's read lock and a few atomic adds; a new
// series one small allocation. The Prometheus form is built only when
// scraped (Collect).
//
// Plain maps in shards, not a sync.Map: with 100,000 consumers sync.Map's
// trie costs a cache miss per level, about twice the time of a map lookup
// (BenchmarkObserve100kConsumers); the shards keep readers on different
// cores off one lock's cache line.
type traffic struct {
	node        string
	statusDesc  *prometheus.Desc
	latencyDesc *prometheus.Desc
	shards      [trafficShards]trafficShard
}

const trafficShards = 64

var trafficSeed = maphash.MakeSeed()

type trafficShard struct {
	mu sync.RWMutex
	m  map[seriesKey]*series
	_  [64]byte // one shard's lock per cache line
}

type seriesKey struct {
	route, consumer string
	code            int
}

type series struct {
	count    atomic.Uint64
	request  histogram
	upstream histogram
}

// histogram counts observations per bucket (not cumulative; the last is
// +Inf) and their sum in nanoseconds.
type histogram struct {
	buckets [nBuckets + 1]atomic.Uint64
	sumNs   atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(bucketBounds) && d > bucketBounds[i] {
		i++
	}
	h.buckets[i].Add(1)
	if d > 0 {
		h.sumNs.Add(uint64(d))
	}
}

func newTraffic(node string) *traffic {
	return &traffic{
		node: node,
		statusDesc: prometheus.NewDesc("apisix_http_status", "HTTP status codes per route and consumer",
			[]string{"code", "route", "consumer", "node"}, nil),
		latencyDesc: prometheus.NewDesc("apisix_http_latency", "HTTP request latency in milliseconds per route and consumer",
			[]string{"type", "route", "consumer", "node"}, nil),
	}
}

func (t *traffic) observe(route, consumer string, code int, total, upstream time.Duration) {
	k := seriesKey{route, consumer, code}
	sh := &t.shards[(maphash.String(trafficSeed, consumer)^maphash.String(trafficSeed, route))%trafficShards]
	sh.mu.RLock()
	s := sh.m[k]
	sh.mu.RUnlock()
	if s == nil {
		s = sh.add(k)
	}
	s.count.Add(1)
	s.request.observe(total)
	if upstream > 0 {
		s.upstream.observe(upstream)
	}
}

// add makes k's series, once.
func (sh *trafficShard) add(k seriesKey) *series {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.m[k]; s != nil {
		return s
	}
	if sh.m == nil {
		sh.m = map[seriesKey]*series{}
	}
	// The route and consumer strings may view request memory: keep copies.
	k = seriesKey{strings.Clone(k.route), strings.Clone(k.consumer), k.code}
	s := &series{}
	sh.m[k] = s
	return s
}

// each calls f for every series, one shard at a time (Collect's order
// does not matter: the registry sorts).
func (t *traffic) each(f func(seriesKey, *series)) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		keys := make([]seriesKey, 0, len(sh.m))
		vals := make([]*series, 0, len(sh.m))
		for k, s := range sh.m {
			keys, vals = append(keys, k), append(vals, s)
		}
		sh.mu.RUnlock()
		for j := range keys {
			f(keys[j], vals[j])
		}
	}
}

// Describe implements prometheus.Collector.
func (t *traffic) Describe(ch chan<- *prometheus.Desc) {
	ch <- t.statusDesc
	ch <- t.latencyDesc
}

// Collect implements prometheus.Collector.
func (t *traffic) Collect(ch chan<- prometheus.Metric) {
	t.each(func(k seriesKey, s *series) {
		ch <- prometheus.MustNewConstMetric(t.statusDesc, prometheus.CounterValue, float64(s.count.Load()),
			strconv.Itoa(k.code), k.route, k.consumer, t.node)
		for _, h := range []struct {
			typ string
			h   *histogram
		}{{"request", &s.request}, {"upstream", &s.upstream}} {
			cum := make(map[float64]uint64, nBuckets)
			var n uint64
			for i, ub := range latencyBuckets {
				n += h.h.buckets[i].Load()
				cum[ub] = n
			}
			count := n + h.h.buckets[nBuckets].Load()
			sum := float64(h.h.sumNs.Load()) / float64(time.Millisecond)
			ch <- prometheus.MustNewConstHistogram(t.latencyDesc, count, sum, cum, h.typ, k.route, k.consumer, t.node)
		}
	})
}
