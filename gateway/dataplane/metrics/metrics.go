// Package metrics exposes the node's Prometheus metrics, named as APISIX's
// prometheus plugin names them, on a listener of their own. The hot path
// is a map lookup and a few atomic adds per request (traffic.go).
package metrics

import (
	"net/http"
	netpprof "net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics records requests.
type Metrics struct {
	Registry *prometheus.Registry
	node     string
	traffic  *traffic
	Info     *prometheus.GaugeVec
	Config   *prometheus.GaugeVec
}

// New registers the node's metrics in a fresh registry.
func New(nodeID string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), node: nodeID, traffic: newTraffic(nodeID)}
	m.Info = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apisix_node_info", Help: "Info of the data plane node"}, []string{"node", "hostname", "version"})
	m.Config = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "apisix_dataplane_config_objects", Help: "Objects in the node's current configuration snapshot"}, []string{"kind"})
	m.Registry.MustRegister(m.traffic, m.Info, m.Config,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished request.
func (m *Metrics) Observe(route, consumer string, status int, total, upstream time.Duration) {
	m.traffic.observe(route, consumer, status, total, upstream)
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
