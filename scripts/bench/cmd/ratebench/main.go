// Command ratebench sends HTTP requests at a fixed rate (open loop) and
// prints latency percentiles as one JSON line, for the fixed-rate phase of
// scripts/bench/throughput.sh.
//
// vegeta (net/http) costs tens of microseconds of CPU per request: at half
// of nginx's peak on the one core it shares with the upstream it fell
// seconds behind, measuring itself. This uses fasthttp's client (a few
// microseconds per request): -conns workers each send on their own schedule,
// worker k at start + (k + j·conns)/rate, so requests are spread evenly and
// never wait for an earlier answer unless a worker's previous request is
// still out (counted as "late"). Workers wait with time.Sleep, whose timers
// the scheduler checks whenever it switches goroutines; when the process is
// idle, though, the runtime sleeps in epoll_wait with a timeout in whole
// milliseconds, and a sub-millisecond sleep overshoots by up to one (the
// requests then leave in millisecond bursts that queue at the proxy).
// pace.Wake (scripts/bench/internal/pace) ends such sleeps within -tick.
// Latency runs from the moment a request is
// sent to the end of its response. Every request carries the key-auth key
// of a random consumer (apikey: key-app_<i>, i < -consumers).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"devportal/scripts/bench/internal/pace"
)

func main() {
	target := flag.String("url", "", "URL to request")
	rate := flag.Float64("rate", 1000, "requests per second")
	dur := flag.Duration("duration", 10*time.Second, "how long to send")
	conns := flag.Int("conns", 64, "connections (workers)")
	consumers := flag.Int("consumers", 100000, "random apikey among key-app_0 … key-app_<n-1>")
	tick := flag.Duration("tick", 250*time.Microsecond, "how often a timerfd wakes the idle runtime (sleep precision)")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "ratebench: -url is required")
		os.Exit(2)
	}
	stop, err := pace.Wake(*tick)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratebench:", err)
		os.Exit(1)
	}
	defer stop()
	hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: *conns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	interval := time.Duration(float64(time.Second) / *rate)
	total := int(*rate * dur.Seconds())
	lat := make([]time.Duration, total)
	codes := make([]int, total)
	var late, errs int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	for k := 0; k < *conns; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI(*target)
			r := rand.New(rand.NewPCG(uint64(k), 42))
			myLate, myErrs := 0, 0
			for i := k; i < total; i += *conns {
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				} else if d < -time.Millisecond {
					myLate++
				}
				req.Header.Set("apikey", "key-app_"+strconv.Itoa(r.IntN(*consumers)))
				t0 := time.Now()
				err := hc.Do(req, resp)
				lat[i] = time.Since(t0)
				if err != nil {
					myErrs++
				} else {
					codes[i] = resp.StatusCode()
				}
			}
			mu.Lock()
			late += myLate
			errs += myErrs
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	elapsed := time.Since(start)
	non200 := 0
	for _, c := range codes {
		if c != 200 {
			non200++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"requests": total, "achieved_rps": float64(total) / elapsed.Seconds(), "late": late, "errors": errs, "non_200": non200,
		"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": float64(lat[len(lat)-1]) / 1e6,
	})
}
