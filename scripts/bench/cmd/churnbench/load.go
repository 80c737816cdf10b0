package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"devportal/internal/benchseed"
	"devportal/scripts/bench/internal/pace"
)

func runUpstream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:29181", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { c.SetBodyString("ok\n") }}
	go func() {
		<-ctx.Done()
		srv.Shutdown()
	}()
	fmt.Println("ready")
	return srv.Serve(ln)
}

// runReady waits for the node to serve the full configuration: the first
// 200 on route r0 (a big route) with the last consumer's key.
func runReady(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ready", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "node process id")
	node := fs.String("node", "127.0.0.1:29180", "node address")
	metrics := fs.String("metrics", "127.0.0.1:29191", "node metrics address")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after")
	settle := fs.Duration("settle", 3*time.Second, "wait before the second memory reading")
	cfg := sizeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, started, err := procStat(*pid)
	if err != nil {
		return err
	}
	c := &fasthttp.Client{}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://" + *node + benchseed.Path(0))
	req.Header.Set("apikey", benchseed.Key(cfg.Consumers-1))
	deadline := time.Now().Add(*timeout)
	for {
		if err := c.DoTimeout(req, resp, time.Second); err == nil && resp.StatusCode() == 200 {
			break
		}
		if _, _, err := procStat(*pid); err != nil {
			return fmt.Errorf("the node exited before serving (see its log): %w", err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no 200 from %s after %s (last status %d)", *node, *timeout, resp.StatusCode())
		}
		time.Sleep(5 * time.Millisecond)
	}
	up, err := uptime()
	if err != nil {
		return err
	}
	out := map[string]any{"start_seconds": (up - started).Seconds()}
	cpu, _, _ := procStat(*pid)
	out["start_cpu_seconds"] = cpu.Seconds()
	read := func(suffix string) error {
		rss, hwm, err := procStatus(*pid)
		if err != nil {
			return err
		}
		out["rss_bytes"+suffix], out["hwm_bytes"+suffix] = rss, hwm
		m, err := goMetrics(*metrics)
		if err != nil {
			return err
		}
		out["heap_inuse_bytes"+suffix], out["heap_alloc_bytes"+suffix], out["go_sys_bytes"+suffix] =
			m["go_memstats_heap_inuse_bytes"], m["go_memstats_heap_alloc_bytes"], m["go_memstats_sys_bytes"]
		return nil
	}
	if err := read(""); err != nil {
		return err
	}
	time.Sleep(*settle)
	if err := read("_settled"); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// windowResult is one measured window.
type windowResult struct {
	Mode     string  `json:"mode"`
	Rate     float64 `json:"rate"`
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	Non200   int     `json:"non_200"`
	Errors   int     `json:"errors"`
	// Dropped requests were still queued 5 s after the window: the node
	// fell that far behind. They count in the percentiles with the time
	// they had waited.
	Dropped    int             `json:"dropped"`
	P50ms      float64         `json:"p50_ms"`
	P90ms      float64         `json:"p90_ms"`
	P99ms      float64         `json:"p99_ms"`
	P999ms     float64         `json:"p999_ms"`
	MaxMs      float64         `json:"max_ms"`
	NodeCPUs   float64         `json:"node_cpu_seconds"`
	Churn      benchseed.Stats `json:"churn"`
	RSSBytes   int64           `json:"rss_bytes"`
	HWMBytes   int64           `json:"hwm_bytes"`
	GCs        float64         `json:"gcs"`
	HeapInuseB float64         `json:"heap_inuse_bytes"`
}

func runWindow(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("window", flag.ContinueOnError)
	mode := fs.String("mode", "steady", "steady, churn, or decoy (churn the node does not watch)")
	pid := fs.Int("pid", 0, "node process id (for its CPU time)")
	node := fs.String("node", "127.0.0.1:29180", "node address")
	metrics := fs.String("metrics", "127.0.0.1:29191", "node metrics address")
	rate := fs.Float64("rate", 2000, "requests per second")
	conns := fs.Int("conns", 64, "connections (requests in flight at most)")
	dur := fs.Duration("dur", 20*time.Second, "measured duration")
	warm := fs.Duration("warmup", 2*time.Second, "unmeasured time before it")
	wf := addWriterFlags(fs)
	seed := wf.seed
	writer := fs.String("writer", "idle", "idle: the writer is a process of its own under SCHED_IDLE, so it yields the shared core to the load generator; inline: a goroutine of this process")
	pairs := fs.Int("pairs", 5000, "distinct (route, consumer) pairs the load uses (the node keeps latency series per pair)")
	cfg := sizeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "steady" && *mode != "churn" && *mode != "decoy" {
		return fmt.Errorf("mode %q", *mode)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if *writer != "idle" && *writer != "inline" {
		return fmt.Errorf("writer %q", *writer)
	}
	// The writer's changes over the measured part of the window.
	var churned func() (benchseed.Stats, error)
	if *mode != "steady" {
		if *writer == "idle" {
			var err error
			if churned, err = startIdleWriter(ctx, *mode, wf, *cfg, *warm, *dur); err != nil {
				return err
			}
		} else {
			ch := make(chan benchseed.Stats, 1)
			errc := make(chan error, 1)
			go func() {
				st, err := writeChurn(ctx, wf, *cfg, *mode == "decoy", *warm, *dur)
				ch <- st
				errc <- err
			}()
			churned = func() (benchseed.Stats, error) { return <-ch, <-errc }
		}
	}

	lg := newLoad(*node, *cfg, *conns, *seed, *pairs)
	total := *warm + *dur
	start := time.Now()
	measureAt := start.Add(*warm)
	// Node CPU time exactly at the window's start and end (the load may
	// take longer to drain).
	type mark struct {
		cpu time.Duration
	}
	// The node's metrics are read before and after the window, not at its
	// bounds: a scrape costs the node CPU time.
	var gcBefore float64
	if mm, err := goMetrics(*metrics); err == nil {
		gcBefore = mm["go_gc_duration_seconds_count"]
	}
	at := func(t time.Time, m *mark, done chan<- struct{}) {
		time.Sleep(time.Until(t))
		m.cpu, _, _ = procStat(*pid)
		close(done)
	}
	var m0, m1 mark
	done0, done1 := make(chan struct{}), make(chan struct{})
	go at(measureAt, &m0, done0)
	go at(start.Add(total), &m1, done1)
	// A timerfd per request, not time.Sleep, whose millisecond steps would
	// make requests late, measured as if the node had been slow; not
	// pace.Wake either, whose periodic wake-ups would take the shared core
	// from etcd and the writer (scripts/bench/internal/pace).
	tm, err := pace.NewTimer()
	if err != nil {
		return err
	}
	defer tm.Close()
	lats, non200, errs, dropped, err := lg.run(ctx, tm, *rate, start, measureAt, start.Add(total))
	if err != nil {
		return err
	}
	<-done0
	<-done1
	res := windowResult{Mode: *mode, Rate: *rate, Seconds: dur.Seconds(), Requests: len(lats), Non200: non200, Errors: errs,
		Dropped: dropped, NodeCPUs: (m1.cpu - m0.cpu).Seconds()}
	if churned != nil {
		var err error
		if res.Churn, err = churned(); err != nil {
			return err
		}
	}
	cancel()
	if len(lats) == 0 {
		return errors.New("no request measured")
	}
	slices.Sort(lats)
	q := func(p float64) float64 {
		return float64(lats[min(len(lats)-1, int(p*float64(len(lats))))]) / float64(time.Millisecond)
	}
	res.P50ms, res.P90ms, res.P99ms, res.P999ms = q(0.50), q(0.90), q(0.99), q(0.999)
	res.MaxMs = float64(lats[len(lats)-1]) / float64(time.Millisecond)
	res.RSSBytes, res.HWMBytes, _ = procStatus(*pid)
	if m, err := goMetrics(*metrics); err == nil {
		res.HeapInuseB = m["go_memstats_heap_inuse_bytes"]
		res.GCs = m["go_gc_duration_seconds_count"] - gcBefore
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// load sends requests at a fixed rate, each to a random route with a random
// key that route lets through, and times each from when it was due (so a
// stalled node counts the wait of the requests queued behind it).
type load struct {
	client *fasthttp.HostClient
	conns  int
	seed   uint64
	pairs  []pair
}

// pair is a request: a route and a consumer it lets through.
type pair struct{ route, consumer int }

// newLoad picks the pairs the load uses, the same for every window of a
// seed: random routes, each with a random consumer it whitelists.
func newLoad(addr string, cfg benchseed.Config, conns int, seed uint64, n int) *load {
	rng := rand.New(rand.NewPCG(seed, 0x10ad))
	pairs := make([]pair, n)
	for k := range pairs {
		i := rng.IntN(cfg.Routes)
		pairs[k] = pair{i, cfg.Member(i, rng.IntN(cfg.Members(i)))}
	}
	return &load{client: &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		conns: conns, seed: seed, pairs: pairs}
}

func (l *load) run(ctx context.Context, tm *pace.Timer, rate float64, start, measureAt, end time.Time) (lats []time.Duration, non200, errs, dropped int, err error) {
	giveUp := end.Add(5 * time.Second)
	jobs := make(chan time.Time, int(rate*10)+1024)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := 0; k < l.conns; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(l.seed, uint64(k)))
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			var mine []time.Duration
			var bad, failed, gone int
			for due := range jobs {
				if time.Now().After(giveUp) {
					if !due.Before(measureAt) {
						mine = append(mine, time.Since(due))
						gone++
					}
					continue
				}
				p := l.pairs[rng.IntN(len(l.pairs))]
				req.Reset()
				req.SetRequestURI("http://" + l.client.Addr + benchseed.Path(p.route))
				req.Header.Set("apikey", benchseed.Key(p.consumer))
				err := l.client.Do(req, resp)
				lat := time.Since(due)
				if due.Before(measureAt) {
					continue
				}
				mine = append(mine, lat)
				if err != nil {
					failed++
				} else if resp.StatusCode() != 200 {
					bad++
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			non200 += bad
			errs += failed
			dropped += gone
			mu.Unlock()
		}(k)
	}
	interval := time.Duration(float64(time.Second) / rate)
	next := start
	for next.Before(end) && ctx.Err() == nil {
		if err = tm.Until(next); err != nil {
			break
		}
		// Send everything due now (the sleep may overshoot).
		for now := time.Now(); !next.After(now) && next.Before(end); next = next.Add(interval) {
			jobs <- next
		}
	}
	close(jobs)
	wg.Wait()
	return lats, non200, errs, dropped, err
}
