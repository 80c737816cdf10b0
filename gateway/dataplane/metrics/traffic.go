package metrics

import (
	"bufio"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// traffic is apisix_http_status, one counter per (route, consumer, status
// code), and apisix_http_latency, one pair of histograms per route. A
// request costs a map lookup under a shard's read lock and a few atomic
// adds; a new (route, consumer, code) one small allocation.
//
// Latency is per route, not per consumer as in APISIX (its consumer label is
// always ""): with 100,000 consumers, per-consumer histograms were 3.2
// million exposition lines (374 MB, an 8 s scrape that took the node's heap
// from 0.2 to 0.9 GB) and 280 bytes of counters per consumer and route.
//
// Plain maps in shards, not a sync.Map: with 100,000 consumers sync.Map's
// trie costs a cache miss per level, about twice the time of a map lookup
// (BenchmarkObserve100kConsumers); the shards keep readers on different
// cores off one lock's cache line. Scrapes write the text format directly
// (writeText): client_golang's metric objects cost a few allocations per
// line.
type traffic struct {
	node   string
	shards [trafficShards]trafficShard

	latMu sync.RWMutex
	lat   map[string]*routeLatency
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

// series is one apisix_http_status counter, with its route's histograms
// looked up once.
type series struct {
	count atomic.Uint64
	lat   *routeLatency
	// Its route and code, for a Slot to check (a Slot is one consumer's).
	route string
	code  int
}

// Slot is where one consumer remembers its last series: its next request
// with the same route and status finds it there instead of in the table of
// every (route, consumer, code), a few cache misses with 100,000
// consumers. A Slot must only ever be passed with one consumer name.
type Slot struct{ last atomic.Pointer[series] }

type routeLatency struct {
	request, upstream histogram
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
	return &traffic{node: node, lat: map[string]*routeLatency{}}
}

func (t *traffic) observe(route, consumer string, slot *Slot, code int, total, upstream time.Duration) {
	var s *series
	if slot != nil {
		if last := slot.last.Load(); last != nil && last.code == code && last.route == route {
			s = last
		}
	}
	if s == nil {
		s = t.find(route, consumer, code)
		if slot != nil {
			slot.last.Store(s)
		}
	}
	s.count.Add(1)
	s.lat.request.observe(total)
	if upstream > 0 {
		s.lat.upstream.observe(upstream)
	}
}

// find is the series of (route, consumer, code), made if new.
func (t *traffic) find(route, consumer string, code int) *series {
	k := seriesKey{route, consumer, code}
	sh := &t.shards[(maphash.String(trafficSeed, consumer)^maphash.String(trafficSeed, route))%trafficShards]
	sh.mu.RLock()
	s := sh.m[k]
	sh.mu.RUnlock()
	if s == nil {
		s = t.add(sh, k)
	}
	return s
}

// add makes k's series, once.
func (t *traffic) add(sh *trafficShard, k seriesKey) *series {
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
	s := &series{lat: t.routeLatency(k.route), route: k.route, code: k.code}
	sh.m[k] = s
	return s
}

func (t *traffic) routeLatency(route string) *routeLatency {
	t.latMu.RLock()
	l := t.lat[route]
	t.latMu.RUnlock()
	if l != nil {
		return l
	}
	t.latMu.Lock()
	defer t.latMu.Unlock()
	if l = t.lat[route]; l == nil {
		l = &routeLatency{}
		t.lat[route] = l
	}
	return l
}

// writeText writes both metrics in Prometheus' text format (0.0.4), with
// the label names sorted as client_golang sorts them.
func (t *traffic) writeText(w *bufio.Writer) error {
	node := escapeLabel(t.node)
	buf := make([]byte, 0, 256)
	w.WriteString("# HELP apisix_http_status HTTP status codes per route and consumer\n# TYPE apisix_http_status counter\n")
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for k, s := range sh.m {
			buf = append(buf[:0], `apisix_http_status{code="`...)
			buf = strconv.AppendInt(buf, int64(k.code), 10)
			buf = append(buf, `",consumer="`...)
			buf = appendEscaped(buf, k.consumer)
			buf = append(buf, `",node="`...)
			buf = append(buf, node...)
			buf = append(buf, `",route="`...)
			buf = appendEscaped(buf, k.route)
			buf = append(buf, `"} `...)
			buf = strconv.AppendUint(buf, s.count.Load(), 10)
			buf = append(buf, '\n')
			w.Write(buf)
		}
		sh.mu.RUnlock()
	}
	w.WriteString("# HELP apisix_http_latency HTTP request latency in milliseconds per route (consumer is always \"\")\n# TYPE apisix_http_latency histogram\n")
	t.latMu.RLock()
	defer t.latMu.RUnlock()
	for route, l := range t.lat {
		for _, h := range []struct {
			typ string
			h   *histogram
		}{{"request", &l.request}, {"upstream", &l.upstream}} {
			labels := append(append(append(append(append([]byte(`{consumer="",node="`), node...), `",route="`...),
				escapeLabel(route)...), `",type="`...), h.typ...)
			var n uint64
			for i := 0; i <= nBuckets; i++ {
				n += h.h.buckets[i].Load()
				buf = append(buf[:0], "apisix_http_latency_bucket"...)
				buf = append(buf, labels...)
				buf = append(buf, `",le="`...)
				if i < nBuckets {
					buf = strconv.AppendFloat(buf, latencyBuckets[i], 'g', -1, 64)
				} else {
					buf = append(buf, "+Inf"...)
				}
				buf = append(buf, `"} `...)
				buf = strconv.AppendUint(buf, n, 10)
				buf = append(buf, '\n')
				w.Write(buf)
			}
			buf = append(append(append(buf[:0], "apisix_http_latency_sum"...), labels...), `"} `...)
			buf = strconv.AppendFloat(buf, float64(h.h.sumNs.Load())/float64(time.Millisecond), 'g', -1, 64)
			buf = append(append(append(buf, "\napisix_http_latency_count"...), labels...), `"} `...)
			buf = strconv.AppendUint(buf, n, 10)
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func escapeLabel(s string) string { return string(appendEscaped(nil, s)) }

// appendEscaped appends a label value escaped as the text format wants:
// backslash, double quote and line feed.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
