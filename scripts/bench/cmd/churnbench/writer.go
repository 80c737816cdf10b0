package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"devportal/internal/benchseed"
)

// writerFlags are the churn writer's settings, shared by `window` (which
// passes them on) and `write`.
type writerFlags struct {
	endpoint     *string
	routeRate    *float64
	consumerRate *float64
	bigEvery     *int
	seed         *uint64
}

func addWriterFlags(fs *flag.FlagSet) writerFlags {
	return writerFlags{
		endpoint:     fs.String("etcd", "http://127.0.0.1:29379", "etcd endpoint (churn and decoy modes)"),
		routeRate:    fs.Float64("route-rate", 20, "route changes per second (churn and decoy modes)"),
		consumerRate: fs.Float64("consumer-rate", 10, "consumer changes per second (churn and decoy modes)"),
		bigEvery:     fs.Int("big-every", 4, "every n-th route change is on a big route (0: never)"),
		seed:         fs.Uint64("seed", 1, "random seed"),
	}
}

// writeChurn runs the writer for warm+dur and returns the changes it made
// in the last dur. decoy writes under a prefix the node does not watch.
func writeChurn(ctx context.Context, wf writerFlags, cfg benchseed.Config, decoy bool, warm, dur time.Duration) (benchseed.Stats, error) {
	cli, err := client(*wf.endpoint)
	if err != nil {
		return benchseed.Stats{}, err
	}
	defer cli.Close()
	if decoy {
		// The same writes under a prefix the node does not watch: what
		// the churn costs the machine (etcd, the writer) without the node.
		cfg.Prefix = "/decoy" + cfg.Prefix
	}
	w := &benchseed.Writer{Cli: cli, Cfg: cfg, RouteRate: *wf.routeRate, ConsumerRate: *wf.consumerRate, BigEvery: *wf.bigEvery, Seed: *wf.seed}
	start := time.Now()
	wctx, cancel := context.WithDeadline(ctx, start.Add(warm+dur))
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	time.Sleep(time.Until(start.Add(warm)))
	s0 := w.Stats()
	<-done
	s := w.Stats()
	return benchseed.Stats{RouteChanges: s.RouteChanges - s0.RouteChanges, BigRouteChanges: s.BigRouteChanges - s0.BigRouteChanges,
		ConsumerChanges: s.ConsumerChanges - s0.ConsumerChanges, Errors: s.Errors - s0.Errors, Bytes: s.Bytes - s0.Bytes}, ctx.Err()
}

// runWrite is `churnbench write`: the churn writer alone, so that `window`
// can run it as a process of its own at idle priority (see runWindow).
func runWrite(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	mode := fs.String("mode", "churn", "churn, or decoy (a prefix the node does not watch)")
	dur := fs.Duration("dur", 20*time.Second, "measured duration")
	warm := fs.Duration("warmup", 2*time.Second, "unmeasured time before it")
	wf := addWriterFlags(fs)
	cfg := sizeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "churn" && *mode != "decoy" {
		return fmt.Errorf("mode %q", *mode)
	}
	st, err := writeChurn(ctx, wf, *cfg, *mode == "decoy", *warm, *dur)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(st)
}

// startIdleWriter starts `churnbench write` as a child process under
// SCHED_IDLE (chrt --idle 0): it shares the load generator's core but only
// runs when the load generator does not, so what the window measures is the
// node, not a load generator waiting for the writer. The returned function
// waits for the child and returns its counts.
func startIdleWriter(ctx context.Context, mode string, wf writerFlags, cfg benchseed.Config, warm, dur time.Duration) (func() (benchseed.Stats, error), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"--idle", "0", self, "write", "-mode", mode, "-dur", dur.String(), "-warmup", warm.String(),
		"-etcd", *wf.endpoint, "-route-rate", strconv.FormatFloat(*wf.routeRate, 'g', -1, 64),
		"-consumer-rate", strconv.FormatFloat(*wf.consumerRate, 'g', -1, 64), "-big-every", strconv.Itoa(*wf.bigEvery),
		"-seed", strconv.FormatUint(*wf.seed, 10), "-prefix", cfg.Prefix, "-routes", strconv.Itoa(cfg.Routes),
		"-consumers", strconv.Itoa(cfg.Consumers), "-big", strconv.Itoa(cfg.BigRoutes), "-whitelist", strconv.Itoa(cfg.Whitelist),
		"-upstream", cfg.Upstream}
	cmd := exec.CommandContext(ctx, "chrt", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chrt --idle (util-linux): %w", err)
	}
	return func() (benchseed.Stats, error) {
		var st benchseed.Stats
		if err := cmd.Wait(); err != nil {
			return st, fmt.Errorf("writer: %w", err)
		}
		return st, json.Unmarshal(out.Bytes(), &st)
	}, nil
}
