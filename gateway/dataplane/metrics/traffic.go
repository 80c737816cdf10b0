package metrics

import (
	"strconv"
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
// costs a lock-free lookup and a few atomic adds; a new series one small
// allocation. The Prometheus form is built only when scraped (Collect).
type traffic struct {
	node        string
	statusDesc  *prometheus.Desc
	latencyDesc *prometheus.Desc
	series      sync.Map // seriesKey → *series
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
	v, ok := t.series.Load(k)
	if !ok {
		// The route and consumer strings may view request memory: keep copies.
		k = seriesKey{string([]byte(route)), string([]byte(consumer)), code}
		v, _ = t.series.LoadOrStore(k, &series{})
	}
	s := v.(*series)
	s.count.Add(1)
	s.request.observe(total)
	if upstream > 0 {
		s.upstream.observe(upstream)
	}
}

// Describe implements prometheus.Collector.
func (t *traffic) Describe(ch chan<- *prometheus.Desc) {
	ch <- t.statusDesc
	ch <- t.latencyDesc
}

// Collect implements prometheus.Collector.
func (t *traffic) Collect(ch chan<- prometheus.Metric) {
	t.series.Range(func(key, value any) bool {
		k, s := key.(seriesKey), value.(*series)
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
		return true
	})
}
