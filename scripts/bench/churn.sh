#!/usr/bin/env bash
# Data plane churn benchmark (docs/bench/dataplane-churn.md): a node with ROUTES
# routes and CONSUMERS consumers (the control core's JSON, in the embedded etcd)
# serving RATE requests/s of random valid keys over all routes, without changes
# (steady) and while routes change ROUTE_RATE/s and consumers CONSUMER_RATE/s
# (churn), ROUNDS interleaved rounds of DUR seconds each. Also the node's start
# time, RSS and Go heap at that size. Prints a markdown table; raw JSON lines in
# bench-results/churn-<time>/.
#
# Environment (defaults): ROUTES=10000 CONSUMERS=100000 BIG=10 WHITELIST=20
# RATE=1000 DUR=20 WARMUP=2 ROUNDS=3 ROUTE_RATE=20 CONSUMER_RATE=10 BIG_EVERY=4
# NICE=-10 (the measured processes run at this niceness, so that other work on
# a shared machine takes less of their cores; needs root, else it is ignored).
# GATEWAY_BIN runs a node binary built elsewhere (e.g. of an older commit) instead
# of building cmd/gateway from the working tree. DECOY=1 adds a decoy window per
# round (the churn written under a prefix the node does not watch); CHURN_PROFILE=1
# keeps a CPU profile of the node per window. NODE_ENV adds environment
# variables for the node only (e.g. NODE_ENV="GOGC=off GOMEMLIMIT=1GiB"). WRITER=idle (default) runs etcd and
# the churn writer under SCHED_IDLE on the load generator's core, so they take
# only the time the load generator leaves (as an etcd on other machines would);
# WRITER=inline gives them the load generator's priority (the method before).
# Quick run: ROUTES=500 CONSUMERS=3000 BIG=2 RATE=500 DUR=3 ROUNDS=1 ./scripts/bench/churn.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUTES=${ROUTES:-10000} CONSUMERS=${CONSUMERS:-100000} BIG=${BIG:-10} WHITELIST=${WHITELIST:-20}
RATE=${RATE:-1000} DUR=${DUR:-20} WARMUP=${WARMUP:-2} ROUNDS=${ROUNDS:-3}
ROUTE_RATE=${ROUTE_RATE:-20} CONSUMER_RATE=${CONSUMER_RATE:-10} BIG_EVERY=${BIG_EVERY:-4}
# Ports of our own (the throughput benchmark uses 19080-19191, 23790-23800, 18081).
ETCD=http://127.0.0.1:29379 ETCD_PEER=http://127.0.0.1:29380 NODE=127.0.0.1:29180 METRICS=127.0.0.1:29191 UPSTREAM=127.0.0.1:29181
for port in 29379 29380 29180 29191 29181; do
	if ss -ltn "sport = :$port" | grep -q LISTEN; then
		echo "churn.sh: port $port is in use" >&2
		exit 1
	fi
done
LOCK=/tmp/devportal-bench.lock
NICE=${NICE:--10}
pri=()
[ "$(id -u)" != 0 ] || pri=(nice -n "$NICE")

out=bench-results/churn-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# Binaries of our own, so that another engineer's `make build` cannot swap them mid-run.
gateway=${GATEWAY_BIN:-$work/gateway}
[ -n "${GATEWAY_BIN:-}" ] || go build -o "$gateway" ./cmd/gateway
cb=$work/churnbench
go build -o "$cb" ./scripts/bench/cmd/churnbench
git rev-parse HEAD >"$out/commit"
git status --short >>"$out/commit"
sizes=(-routes "$ROUTES" -consumers "$CONSUMERS" -big "$BIG" -whitelist "$WHITELIST" -upstream "$UPSTREAM")

# The lock is held from here: seeding 210,000 keys is heavy work that would
# disturb another benchmark's measurement.
echo "waiting for $LOCK ..."
exec 9>"$LOCK"
flock 9

# etcd, the churn writer and the upstream share CPU 1 with the load generator;
# the node has CPU 0 to itself. etcd and the writer run under SCHED_IDLE
# (WRITER=idle): a request the load generator owes is sent when it is due,
# not after etcd's turn.
export WRITER=${WRITER:-idle}
case $WRITER in
idle) etcd_pri=(chrt --idle 0) ;;
inline) etcd_pri=("${pri[@]}") ;;
*) echo "churn.sh: WRITER=$WRITER (idle or inline)" >&2; exit 2 ;;
esac
"${etcd_pri[@]}" taskset -c 1 "$cb" etcd -dir "$work/etcd" -client-url $ETCD -peer-url $ETCD_PEER >"$out/etcd.log" 2>&1 &
pids+=($!)
"${pri[@]}" taskset -c 1 "$cb" upstream -listen $UPSTREAM >"$out/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$out/etcd.log" && break; sleep 0.2; done
echo "seeding $ROUTES routes, $CONSUMERS consumers ..."
taskset -c 1 "$cb" seed -etcd $ETCD "${sizes[@]}" | tee "$out/seed.json"

args=(--etcd $ETCD --prefix /apisix --listen $NODE --metrics-listen $METRICS --log-level warn --pprof)
measure() {
	# Start time, memory, then the interleaved windows, all under the lock.
	# NODE_ENV: extra environment for the node only, e.g. NODE_ENV="GOGC=off GOMEMLIMIT=1GiB".
	# shellcheck disable=SC2086
	"${pri[@]}" env GOMAXPROCS=1 ${NODE_ENV:-} taskset -c 0 "$gateway" "${args[@]}" 2>"$out/node.log" &
	node=$!
	pids+=("$node")
	"${pri[@]}" taskset -c 1 "$cb" ready -pid "$node" -node $NODE -metrics $METRICS "${sizes[@]}" | tee "$out/start.json"
	curl -s -o "$out/heap-start.pprof" "http://$METRICS/debug/pprof/heap" || true
	for r in $(seq "$ROUNDS"); do
		# DECOY=1 adds a window whose writes go to a prefix the node does not
		# watch: the same etcd and writer work, so what is left over steady
		# is the machine's share of the churn tail, not the node's.
		for mode in steady churn ${DECOY:+decoy}; do
			# CHURN_PROFILE=1: a CPU profile of the node over each window (it costs the node a little).
			prof=""
			if [ -n "${CHURN_PROFILE:-}" ]; then
				curl -s -o "$out/cpu-$r-$mode.pprof" "http://$METRICS/debug/pprof/profile?seconds=$((DUR + WARMUP))" &
				prof=$!
			fi
			"${pri[@]}" taskset -c 1 "$cb" window -mode $mode -pid "$node" -node $NODE -metrics $METRICS -etcd $ETCD \
				-rate "$RATE" -dur "${DUR}s" -warmup "${WARMUP}s" -route-rate "$ROUTE_RATE" -consumer-rate "$CONSUMER_RATE" \
				-big-every "$BIG_EVERY" -seed "$r" -writer "$WRITER" "${sizes[@]}" | tee -a "$out/windows.jsonl"
			[ -z "$prof" ] || wait "$prof"
		done
	done
	curl -s -o "$out/heap-end.pprof" "http://$METRICS/debug/pprof/heap" || true
	kill "$node"
}
echo "measuring ..."
measure
flock -u 9

python3 - "$out" "$ROUTES" "$CONSUMERS" "$RATE" "$ROUTE_RATE" "$CONSUMER_RATE" "$BIG_EVERY" <<'PY' | tee "$out/summary.md"
import json, statistics, sys
out, routes, consumers, rate, rr, cr, big = sys.argv[1:]
w = [json.loads(l) for l in open(out + "/windows.jsonl")]
s = json.load(open(out + "/start.json"))
st = [x for x in w if x["mode"] == "steady"]
ch = [x for x in w if x["mode"] == "churn"]
dc = [x for x in w if x["mode"] == "decoy"]
def f(xs, k, scale=1.0, fmt="{:.2f}"):
    v = [x[k] * scale for x in xs]
    return (fmt + " (" + fmt + "–" + fmt + ")").format(statistics.median(v), min(v), max(v))
import os
writer = os.environ.get("WRITER", "idle")
print(f"\n### Churn: {routes} routes, {consumers} consumers, {rate} req/s, {rr} route + {cr} consumer changes/s (every {big}th route change on a big whitelist; etcd and writer: {'SCHED_IDLE' if writer == 'idle' else 'same priority as the load'})\n")
print("| window | rounds | p50 ms | p99 ms | p99.9 ms | max ms | node CPU % | non-200 / errors / dropped | GCs |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, xs in (("steady", st), ("churn", ch), ("decoy (same writes, not watched)", dc)):
    if not xs:
        continue
    cpu = [100 * x["node_cpu_seconds"] / x["seconds"] for x in xs]
    print(f"| {name} | {len(xs)} | {f(xs,'p50_ms')} | {f(xs,'p99_ms')} | {f(xs,'p999_ms')} | {f(xs,'max_ms')} | "
          f"{statistics.median(cpu):.1f} ({min(cpu):.1f}–{max(cpu):.1f}) | {sum(x['non_200'] for x in xs)} / {sum(x['errors'] for x in xs)} / {sum(x.get('dropped', 0) for x in xs)} | {f(xs,'gcs',fmt='{:.0f}')} |")
ratios = [c["p99_ms"] / s_["p99_ms"] for s_, c in zip(st, ch)]
per = []
for s_, c in zip(st, ch):
    n = c["churn"]["route_changes"] + c["churn"]["consumer_changes"]
    if n:
        per.append(1000 * (c["node_cpu_seconds"] / c["seconds"] - s_["node_cpu_seconds"] / s_["seconds"]) * c["seconds"] / n)
changes = [c["churn"]["route_changes"] + c["churn"]["consumer_changes"] for c in ch]
print()
print(f"- churn p99 / steady p99 (per round): {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f} (goal ≤ 1.5)")
if dc:
    dr = [d["p99_ms"] / s_["p99_ms"] for s_, d in zip(st, dc)]
    print(f"- decoy p99 / steady p99 (per round): {', '.join(f'{r:.2f}' for r in dr)}; median {statistics.median(dr):.2f} (the machine's part: etcd and the writer share the load generator's core{' under SCHED_IDLE' if writer == 'idle' else ''})")
if per:
    print(f"- node CPU per change (churn CPU − steady CPU, over changes applied): median {statistics.median(per):.2f} ms "
          f"({min(per):.2f}–{max(per):.2f}); changes per window {min(changes)}–{max(changes)}, "
          f"of which on big whitelists {min(c['churn']['big_route_changes'] for c in ch)}–{max(c['churn']['big_route_changes'] for c in ch)} (goal < 1 ms)")
mb = lambda b: b / (1 << 20)
print(f"- start to first 200 with the last consumer's key: {s['start_seconds']:.2f} s ({s['start_cpu_seconds']:.2f} s CPU)")
print(f"- after start: VmRSS {mb(s['rss_bytes']):.0f} MiB, VmHWM {mb(s['hwm_bytes']):.0f} MiB, Go heap in use {mb(s['heap_inuse_bytes']):.0f} MiB; "
      f"{s.get('settle', 3)} s later VmRSS {mb(s['rss_bytes_settled']):.0f} MiB, heap in use {mb(s['heap_inuse_bytes_settled']):.0f} MiB")
last = w[-1]
print(f"- after all windows: VmRSS {mb(last['rss_bytes']):.0f} MiB, VmHWM {mb(last['hwm_bytes']):.0f} MiB, heap in use {mb(last['heap_inuse_bytes']):.0f} MiB")
PY
echo "raw results: $out"
