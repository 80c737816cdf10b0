// Package metrics exposes the node's Prometheus metrics, named as APISIX's
// prometheus plugin names them, on a listener of their own. The hot path
// is a map lookup and a few atomic adds per request (traffic.go).
package metrics

import (
	"bufio"
	"log/slog"
	"net/http"
	netpprof "net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Metrics records requests.
type Metrics struct {
	// Registry holds every metric but the per-request ones
	// (apisix_http_status, apisix_http_latency), which the handler writes
	// itself.
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
	m.Registry.MustRegister(m.Info, m.Config,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished request. slot, nil for none, is the
// consumer's (see Slot).
func (m *Metrics) Observe(route, consumer string, slot *Slot, status int, total, upstream time.Duration) {
	m.traffic.observe(route, consumer, slot, status, total, upstream)
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
	mux.HandleFunc("/metrics", m.serveMetrics)
	mux.HandleFunc("/apisix/prometheus/metrics", m.serveMetrics)
	return mux
}

// textFormat is Prometheus' text exposition format 0.0.4, which every
// Prometheus version scrapes.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// serveMetrics writes the registry's metrics, then the per-request ones.
func (m *Metrics) serveMetrics(w http.ResponseWriter, r *http.Request) {
	mfs, err := m.Registry.Gather()
	if err != nil {
		// A collector failed; what it gathered is still written, as promhttp does with ContinueOnError.
		slog.Warn("metrics: gathering", "err", err)
	}
	w.Header().Set("Content-Type", string(textFormat))
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := expfmt.NewEncoder(bw, textFormat)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return // the scraper went away
		}
	}
	if err := m.traffic.writeText(bw); err != nil {
		return
	}
	bw.Flush()
}
