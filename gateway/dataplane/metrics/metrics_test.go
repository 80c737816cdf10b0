package metrics

import (
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
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
	m.Observe("r1", "jack", 200, 3*time.Millisecond, 2*time.Millisecond)
	m.Observe("r1", "jack", 200, 700*time.Millisecond, 0)
	m.Observe("", "", 404, 100*time.Microsecond, 0)
	body := scrape(t, m)
	for _, want := range []string{
		`apisix_http_status{code="200",consumer="jack",node="n1",route="r1"} 2`,
		`apisix_http_status{code="404",consumer="",node="n1",route=""} 1`,
		`apisix_http_latency_bucket{consumer="jack",node="n1",route="r1",type="request",le="1"} 0`,
		`apisix_http_latency_bucket{consumer="jack",node="n1",route="r1",type="request",le="5"} 1`,
		`apisix_http_latency_bucket{consumer="jack",node="n1",route="r1",type="request",le="1000"} 2`,
		`apisix_http_latency_bucket{consumer="jack",node="n1",route="r1",type="request",le="+Inf"} 2`,
		`apisix_http_latency_sum{consumer="jack",node="n1",route="r1",type="request"} 703`,
		`apisix_http_latency_count{consumer="jack",node="n1",route="r1",type="upstream"} 1`,
		`apisix_http_latency_bucket{consumer="jack",node="n1",route="r1",type="upstream",le="2"} 1`,
		`apisix_http_latency_count{consumer="",node="n1",route="",type="request"} 1`,
		"# TYPE apisix_http_latency histogram",
		"# TYPE apisix_http_status counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New("n1")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Observe("r1", "jack", 200, 3*time.Millisecond, 2*time.Millisecond)
	}
}

// BenchmarkObserve100kConsumers is the throughput benchmark's pattern: one
// route, a random consumer among 100,000 each request, all series existing.
func BenchmarkObserve100kConsumers(b *testing.B) {
	m := New("n1")
	names := make([]string, 100_000)
	for i := range names {
		names[i] = "app_" + strconv.Itoa(i)
		m.Observe("auth", names[i], 200, time.Millisecond, time.Millisecond)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(names))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Observe("auth", names[order[i%len(order)]], 200, 3*time.Millisecond, 2*time.Millisecond)
	}
}
