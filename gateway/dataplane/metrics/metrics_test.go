package metrics

import (
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(false, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestTrafficExposition(t *testing.T) {
	m := New("n1")
	m.Observe("r1", "jack", nil, 200, 3*time.Millisecond, 2*time.Millisecond)
	m.Observe("r1", "jill", nil, 200, 700*time.Millisecond, 0)
	m.Observe("", "", nil, 404, 100*time.Microsecond, 0)
	body := scrape(t, m)
	for _, want := range []string{
		`apisix_http_status{code="200",consumer="jack",node="n1",route="r1"} 1`,
		`apisix_http_status{code="200",consumer="jill",node="n1",route="r1"} 1`,
		`apisix_http_status{code="404",consumer="",node="n1",route=""} 1`,
		`apisix_http_latency_bucket{consumer="",node="n1",route="r1",type="request",le="1"} 0`,
		`apisix_http_latency_bucket{consumer="",node="n1",route="r1",type="request",le="5"} 1`,
		`apisix_http_latency_bucket{consumer="",node="n1",route="r1",type="request",le="1000"} 2`,
		`apisix_http_latency_bucket{consumer="",node="n1",route="r1",type="request",le="+Inf"} 2`,
		`apisix_http_latency_sum{consumer="",node="n1",route="r1",type="request"} 703`,
		`apisix_http_latency_count{consumer="",node="n1",route="r1",type="upstream"} 1`,
		`apisix_http_latency_bucket{consumer="",node="n1",route="r1",type="upstream",le="2"} 1`,
		`apisix_http_latency_count{consumer="",node="n1",route="",type="request"} 1`,
		"# TYPE apisix_http_latency histogram",
		"# TYPE apisix_http_status counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `apisix_http_latency_count{consumer="jack"`) {
		t.Error("latency is per route, not per consumer")
	}
}

// A consumer's Slot finds its last series only for the same route and
// code: every request is counted in its own series, and the slot never
// mixes two.
func TestSlotCountsEachSeries(t *testing.T) {
	m := New("n1")
	var jack, jill Slot
	for _, o := range []struct {
		route, consumer string
		slot            *Slot
		code            int
	}{
		{"r1", "jack", &jack, 200}, {"r1", "jack", &jack, 200}, {"r2", "jack", &jack, 200},
		{"r1", "jack", &jack, 429}, {"r1", "jack", &jack, 200}, {"r1", "jack", nil, 200},
		{"r1", "jill", &jill, 200}, {"r2", "jill", &jill, 200},
	} {
		m.Observe(o.route, o.consumer, o.slot, o.code, time.Millisecond, time.Millisecond)
	}
	body := scrape(t, m)
	for _, want := range []string{
		`apisix_http_status{code="200",consumer="jack",node="n1",route="r1"} 4`,
		`apisix_http_status{code="200",consumer="jack",node="n1",route="r2"} 1`,
		`apisix_http_status{code="429",consumer="jack",node="n1",route="r1"} 1`,
		`apisix_http_status{code="200",consumer="jill",node="n1",route="r1"} 1`,
		`apisix_http_status{code="200",consumer="jill",node="n1",route="r2"} 1`,
		`apisix_http_latency_count{consumer="",node="n1",route="r1",type="request"} 6`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The whole exposition parses as Prometheus' text format, label values
// with quotes, backslashes and line feeds included.
func TestExpositionParses(t *testing.T) {
	m := New(`n"1`)
	m.Config.WithLabelValues("routes").Set(3)
	m.Observe(`r\1`, "ja\"ck\\n\n", nil, 200, time.Millisecond, time.Millisecond)
	m.Observe("r2", "", nil, 502, time.Second, 0)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(scrape(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	st := mfs["apisix_http_status"]
	if st == nil || len(st.Metric) != 2 {
		t.Fatalf("apisix_http_status: %v", st)
	}
	found := false
	for _, mt := range st.Metric {
		labels := map[string]string{}
		for _, l := range mt.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["consumer"] == "ja\"ck\\n\n" && labels["route"] == `r\1` && labels["node"] == `n"1` && labels["code"] == "200" {
			found = mt.GetCounter().GetValue() == 1
		}
	}
	if !found {
		t.Errorf("escaped labels do not round-trip: %v", st.Metric)
	}
	lat := mfs["apisix_http_latency"]
	if lat == nil || len(lat.Metric) != 4 {
		t.Fatalf("apisix_http_latency: %v", lat)
	}
	var requests uint64
	for _, mt := range lat.Metric {
		h := mt.GetHistogram()
		if len(h.Bucket) != nBuckets+1 { // and +Inf
			t.Errorf("%d buckets", len(h.Bucket))
		}
		for _, l := range mt.Label {
			if l.GetName() == "type" && l.GetValue() == "request" {
				requests += h.GetSampleCount()
			}
		}
	}
	if requests != 2 {
		t.Errorf("%d requests in the latency histograms, want 2", requests)
	}
	if mfs["apisix_dataplane_config_objects"] == nil || mfs["go_goroutines"] == nil {
		t.Error("the registry's metrics are missing")
	}
}

// BenchmarkScrape100kConsumers is a scrape of a node that has served
// 100,000 consumers on one route.
func BenchmarkScrape100kConsumers(b *testing.B) {
	m := New("n1")
	for i := range 100_000 {
		m.Observe("auth", "app_"+strconv.Itoa(i), nil, 200, time.Millisecond, time.Millisecond)
	}
	h := m.Handler(false, nil)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/scrape")
}

func BenchmarkObserve(b *testing.B) {
	m := New("n1")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Observe("r1", "jack", nil, 200, 3*time.Millisecond, 2*time.Millisecond)
	}
}

// BenchmarkObserve100kConsumers is the throughput benchmark's pattern: one
// route, a random consumer among 100,000 each request, all series existing.
func BenchmarkObserve100kConsumers(b *testing.B) {
	m := New("n1")
	names := make([]string, 100_000)
	for i := range names {
		names[i] = "app_" + strconv.Itoa(i)
		m.Observe("auth", names[i], nil, 200, time.Millisecond, time.Millisecond)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(names))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Observe("auth", names[order[i%len(order)]], nil, 200, 3*time.Millisecond, 2*time.Millisecond)
	}
}
