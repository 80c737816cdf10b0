// Package metrics exposes the node's Prometheus metrics, named as APISIX's
// prometheus plugin names them, on a listener of their own. The hot path
// takes a read lock and a map lookup per request; label sets are cached.
package metrics

import (
	"net/http"
	netpprof "net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics records requests.
type Metrics struct {
	Registry *prometheus.Registry
	node     string
	status   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	Info     *prometheus.GaugeVec
	Config   *prometheus.GaugeVec

	mu     sync.RWMutex
	series map[seriesKey]*series
}

type seriesKey struct {
	route, consumer string
	code            int
}

type series struct {
	count    prometheus.Counter
	request  prometheus.Observer
	upstream prometheus.Observer
}

// New registers the node's metrics in a fresh registry.
func New(nodeID string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), node: nodeID, series: map[seriesKey]*series{}}
	m.status = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "apisix_http_status", Help: "HTTP status codes per route and consumer",
	}, []string{"code", "route", "consumer", "node"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "apisix_http_latency",
		Help:    "HTTP request latency in milliseconds per route and consumer",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000},
	}, []string{"type", "route", "consumer", "node"})
	m.Info = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apisix_node_info", Help: "Info of the data plane node"}, []string{"node", "hostname", "version"})
	m.Config = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apisix_dataplane_config_objects", Help: "Objects in the node's current configuration snapshot"}, []string{"kind"})
	m.Registry.MustRegister(m.status, m.latency, m.Info, m.Config,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished request.
func (m *Metrics) Observe(route, consumer string, status int, total, upstream time.Duration) {
	k := seriesKey{route, consumer, status}
	m.mu.RLock()
	s := m.series[k]
	m.mu.RUnlock()
	if s == nil {
		s = m.newSeries(k)
	}
	s.count.Inc()
	s.request.Observe(float64(total) / float64(time.Millisecond))
	if upstream > 0 {
		s.upstream.Observe(float64(upstream) / float64(time.Millisecond))
	}
}

func (m *Metrics) newSeries(k seriesKey) *series {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.series[k]; s != nil {
		return s
	}
	s := &series{
		count:    m.status.WithLabelValues(strconv.Itoa(k.code), k.route, k.consumer, m.node),
		request:  m.latency.WithLabelValues("request", k.route, k.consumer, m.node),
		upstream: m.latency.WithLabelValues("upstream", k.route, k.consumer, m.node),
	}
	m.series[k] = s
	return s
}

// Handler serves /metrics and APISIX's status API (/status, /status/ready:
// ready once ready() is true); with pprof also Go's /debug/pprof/.
func (m *Metrics) Handler(pprof bool, ready func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /status/ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if ready != nil && !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"error","error":"configuration not loaded yet"}`))
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	})
	if pprof {
		mux.HandleFunc("/debug/pprof/", netpprof.Index)
		mux.HandleFunc("/debug/pprof/profile", netpprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", netpprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", netpprof.Trace)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.Handle("/apisix/prometheus/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return mux
}
