#!/usr/bin/env bash
# Data plane throughput benchmark (docs/bench/dataplane-throughput.md), run by
# `make bench` through scripts/bench/all.sh, or alone:
#
#   scripts/bench/throughput.sh                     # full run, ~9 minutes
#   BENCH_ROUNDS=2 BENCH_DURATION=5 scripts/bench/throughput.sh   # quick look
#
# Everything on loopback. CPU 1: the load generator (wrk, ratebench) and the
# upstream (nginx, 1 worker, 1 KB body). CPU 0: the proxy under test, one at a
# time:
#   nginx        nginx as a plain reverse proxy (1 worker, upstream keepalive)
#   node         our node (cmd/gateway, GOMAXPROCS=1), route without plugins
#   node-plugins our node, route with key-auth (random keys over 100,000
#                consumers), consumer-restriction (100,000-member whitelist),
#                limit-count (never rejecting) and proxy-rewrite
#   direct       the upstream called directly (no proxy), for added latency
# Phase 1, saturation (wrk, 64 connections, closed loop): requests/s and the
# proxy's CPU time per request (utime+stime from /proc/<pid>/stat).
# Phase 2, fixed rate (ratebench, open loop) at half of nginx's median peak:
# latency percentiles, and the proxy's CPU per request at that rate.
# Each run is preceded by a warm-up that is discarded; the targets are
# interleaved in every round (order rotated), BENCH_ROUNDS rounds; the table
# gives medians with min–max. Raw results: bench-results/throughput/<time>/.
#
# Environment: BENCH_ROUNDS (5), BENCH_DURATION seconds per run (10),
# BENCH_WARMUP seconds (2), BENCH_CONNECTIONS (64), BENCH_CONSUMERS (100000),
# BENCH_PREWARM (10: seconds of load on each plugin route before the first
# round), BENCH_RATE (fixed rate; default half of nginx's median peak), BENCH_NICE
# (-19: the priority all benchmark processes run at when root; 0 for none),
# BENCH_NODE (the gateway binary to measure; default: built from this tree),
# BENCH_BASELINE (path of another gateway binary, e.g. an older build: it is
# run too, on the same core, as targets base-node and base-node-plugins),
# BENCH_FLOOR (1: also measure fasthttp-bare, scripts/bench/cmd/bareproxy, a Go
# fasthttp proxy that only forwards: the floor under any node built on them),
# BENCH_LOCK (/tmp/devportal-bench.lock, held while measuring so that no
# other benchmark runs at the same time; "none" to skip).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# Run in a session of our own: the kernel shares the CPU between sessions
# (autogroups) first and by nice value only within one, so raising the
# priority (BENCH_NICE below) takes raising this session's autogroup.
if [ -z "${BENCH_SESSION:-}" ] && command -v setsid >/dev/null; then
	BENCH_SESSION=1 exec setsid --wait "$ROOT/scripts/bench/throughput.sh" "$@"
fi

ROUNDS=${BENCH_ROUNDS:-5}
DUR=${BENCH_DURATION:-10}
WARM=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
export BENCH_CONSUMERS=${BENCH_CONSUMERS:-100000}
LOCK=${BENCH_LOCK:-/tmp/devportal-bench.lock}
LOAD_CPU=1
PROXY_CPU=0
UP_PORT=18081 NGINX_PORT=18082 NODE_PORT=19080 METRICS_PORT=19091 ETCD_PORT=23790 ETCD_PEER=23800

OUT=$ROOT/bench-results/throughput/$(date -u +%Y%m%dT%H%M%SZ)
BIN=$ROOT/bench-results/bin
mkdir -p "$OUT" "$BIN"
RES=$OUT/results.tsv # round target phase metric value
: >"$RES"
log() { echo "[throughput $(date -u +%H:%M:%S)] $*" >&2; }

# --- tools ------------------------------------------------------------------
apt_install() {
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y "$@" >"$OUT/apt.log" 2>&1 ||
		{ $sudo apt-get update >>"$OUT/apt.log" 2>&1 && $sudo apt-get install -y "$@" >>"$OUT/apt.log" 2>&1; }
}
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt_install "${missing[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
log "building the node, the etcd seeder and the fixed-rate client"
NODE_BIN=${BENCH_NODE:-$BIN/gateway}
[ -n "${BENCH_NODE:-}" ] || go build -o "$BIN/gateway" ./cmd/gateway
go build -o "$BIN/benchetcd" ./scripts/bench/cmd/benchetcd
go build -o "$BIN/ratebench" ./scripts/bench/cmd/ratebench
[ -z "${BENCH_FLOOR:-}" ] || go build -o "$BIN/bareproxy" ./scripts/bench/cmd/bareproxy
CLK_TCK=$(getconf CLK_TCK)
# Other work on this machine would otherwise take turns on the benchmark's
# cores; every benchmark process (load, upstream, proxies) runs at the same
# raised priority, so no target is favoured.
NICE=""
if [ "$(id -u)" = 0 ] && [ "${BENCH_NICE:--19}" != 0 ]; then
	NICE="nice -n ${BENCH_NICE:--19}"
	[ -w /proc/self/autogroup ] && echo "${BENCH_NICE:--19}" >/proc/self/autogroup 2>/dev/null || true
fi

# --- processes ----------------------------------------------------------------
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nginx_conf NAME PORT LOCATION-BODY [HTTP-EXTRA]
nginx_conf() {
	local d=$OUT/$1
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
    ${4:-}
    server {
        listen 127.0.0.1:$2 backlog=4096;
        location / { $3 }
    }
}
EOF
	mkdir -p "$d/tmp"
	echo "$d/nginx.conf"
}

wait_http() { # URL [header]
	for _ in $(seq 1 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' ${2:+-H "$2"} "$1")" = 200 ]; then return 0; fi
		sleep 0.1
	done
	log "no 200 from $1"
	return 1
}

BODY=$(head -c 1023 /dev/zero | tr '\0' 'x')
conf=$(nginx_conf upstream $UP_PORT "return 200 \"$BODY\n\";")
$NICE taskset -c $LOAD_CPU "$NGINX" -c "$conf" &
PIDS+=($!)
UP_PID=$!
conf=$(nginx_conf nginx $NGINX_PORT 'proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";' \
	"upstream up { server 127.0.0.1:$UP_PORT; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }")
$NICE taskset -c $PROXY_CPU "$NGINX" -c "$conf" &
PIDS+=($!)
NGINX_PID=$!
wait_http "http://127.0.0.1:$UP_PORT/x"
wait_http "http://127.0.0.1:$NGINX_PORT/x"

log "starting etcd and seeding $BENCH_CONSUMERS consumers"
rm -rf "$OUT/etcd"
$NICE taskset -c $LOAD_CPU "$BIN/benchetcd" --dir "$OUT/etcd" --client-url http://127.0.0.1:$ETCD_PORT \
	--peer-url http://127.0.0.1:$ETCD_PEER --consumers "$BENCH_CONSUMERS" --upstream 127.0.0.1:$UP_PORT \
	>"$OUT/etcd.out" 2>"$OUT/etcd.log" &
PIDS+=($!)
for _ in $(seq 1 600); do grep -q ready "$OUT/etcd.out" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$OUT/etcd.out" || { log "etcd seeding failed"; cat "$OUT/etcd.log" >&2; exit 1; }

log "starting the node"
t0=$(date +%s.%N)
GOMAXPROCS=1 $NICE taskset -c $PROXY_CPU "$NODE_BIN" --etcd http://127.0.0.1:$ETCD_PORT --listen 127.0.0.1:$NODE_PORT \
	--metrics-listen 127.0.0.1:$METRICS_PORT --node-id bench --log-level warn 2>"$OUT/node.log" &
PIDS+=($!)
NODE_PID=$!
wait_http "http://127.0.0.1:$NODE_PORT/plain/x"
wait_http "http://127.0.0.1:$NODE_PORT/auth/x" "apikey: key-app_$((BENCH_CONSUMERS - 1))"
START_S=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.2f", $1-$2}')
log "node ready after ${START_S}s"
TARGETS=(direct nginx node node-plugins)
if [ -n "${BENCH_BASELINE:-}" ]; then
	GOMAXPROCS=1 $NICE taskset -c $PROXY_CPU "$BENCH_BASELINE" --etcd http://127.0.0.1:$ETCD_PORT --listen 127.0.0.1:$((NODE_PORT + 100)) \
		--metrics-listen 127.0.0.1:$((METRICS_PORT + 100)) --node-id bench-base --log-level warn 2>"$OUT/base-node.log" &
	PIDS+=($!)
	BASE_PID=$!
	wait_http "http://127.0.0.1:$((NODE_PORT + 100))/auth/x" "apikey: key-app_$((BENCH_CONSUMERS - 1))"
	TARGETS+=(base-node base-node-plugins)
fi
if [ -n "${BENCH_FLOOR:-}" ]; then
	GOMAXPROCS=1 $NICE taskset -c $PROXY_CPU "$BIN/bareproxy" --listen 127.0.0.1:$((NODE_PORT + 200)) \
		--upstream 127.0.0.1:$UP_PORT 2>"$OUT/bareproxy.log" &
	PIDS+=($!)
	BARE_PID=$!
	wait_http "http://127.0.0.1:$((NODE_PORT + 200))/x"
	TARGETS+=(fasthttp-bare)
fi

# The answers each target gives, checked once.
check() { # NAME URL [header] → expect 200 and a 1024-byte body
	local code size
	read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' ${3:+-H "$3"} "$2")
	[ "$code" = 200 ] && [ "$size" = 1024 ] || { log "$1: got $code, $size bytes"; exit 1; }
}
check direct "http://127.0.0.1:$UP_PORT/x"
check nginx "http://127.0.0.1:$NGINX_PORT/x"
check node "http://127.0.0.1:$NODE_PORT/plain/x"
check node-plugins "http://127.0.0.1:$NODE_PORT/auth/x" "apikey: key-app_7"
[ -z "${BENCH_FLOOR:-}" ] || check fasthttp-bare "http://127.0.0.1:$((NODE_PORT + 200))/x"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NODE_PORT/auth/x")" = 401 ] || { log "key-auth did not reject"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'apikey: nope' "http://127.0.0.1:$NODE_PORT/auth/x")" = 401 ] || { log "key-auth took a bad key"; exit 1; }

url_of() {
	case $1 in
	direct) echo "http://127.0.0.1:$UP_PORT/x" ;;
	nginx) echo "http://127.0.0.1:$NGINX_PORT/x" ;;
	node) echo "http://127.0.0.1:$NODE_PORT/plain/x" ;;
	node-plugins) echo "http://127.0.0.1:$NODE_PORT/auth/x" ;;
	base-node) echo "http://127.0.0.1:$((NODE_PORT + 100))/plain/x" ;;
	base-node-plugins) echo "http://127.0.0.1:$((NODE_PORT + 100))/auth/x" ;;
	fasthttp-bare) echo "http://127.0.0.1:$((NODE_PORT + 200))/x" ;;
	esac
}
pids_of() { # the processes whose CPU counts as the proxy's
	case $1 in
	direct) echo "$UP_PID $(pgrep -P "$UP_PID" | tr '\n' ' ')" ;; # the upstream's own, for reference
	nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
	node | node-plugins) echo "$NODE_PID" ;;
	base-node | base-node-plugins) echo "$BASE_PID" ;;
	fasthttp-bare) echo "$BARE_PID" ;;
	esac
}
cpu_ticks() { # utime stime summed over pids
	local u=0 s=0 p f
	for p in "$@"; do
		# Fields after the ")" of comm: utime is the 12th, stime the 13th.
		f=$(sed 's/.*) //' "/proc/$p/stat")
		set -- $f
		u=$((u + ${12})) s=$((s + ${13}))
	done
	echo "$u $s"
}
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }

rotated() { # round → the targets in that round's order
	local r=$1 n=${#TARGETS[@]} i
	for ((i = 0; i < n; i++)); do echo "${TARGETS[$(((i + r) % n))]}"; done
}
lock() { [ "$LOCK" = none ] || { exec 9>"$LOCK" && flock -w 1200 9; }; }
unlock() { [ "$LOCK" = none ] || flock -u 9; }

# --- phase 1: saturation ------------------------------------------------------
wrk_run() { # ROUND TARGET
	local r=$1 t=$2 url pids b a out
	url=$(url_of "$t")
	pids=$(pids_of "$t")
	$NICE taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${WARM}s" -s scripts/bench/throughput/keys.lua "$url" >/dev/null
	b=$(cpu_ticks $pids)
	out=$OUT/wrk-$r-$t.txt
	$NICE taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s scripts/bench/throughput/keys.lua "$url" >"$out"
	a=$(cpu_ticks $pids)
	echo "$b $a" "$(grep '^JSON' "$out" | sed 's/^JSON //' | jq -r '[.requests,.duration_us,.err_connect+.err_read+.err_write+.err_status+.err_timeout] | @tsv')" |
		awk -v r="$r" -v t="$t" -v hz="$CLK_TCK" 'BEGIN{OFS="\t"} {
			u=($3-$1)*1e6/hz; s=($4-$2)*1e6/hz; n=$5; rps=n/($6/1e6);
			print r,t,"sat","rps",rps; print r,t,"sat","cpu_us",(u+s)/n;
			print r,t,"sat","usr_us",u/n; print r,t,"sat","sys_us",s/n; print r,t,"sat","errors",$7 }' >>"$RES"
	log "round $r $t: $(grep -P "^$r\t$t\tsat\t(rps|cpu_us|errors)\t" "$RES" | cut -f4,5 | tr '\t\n' '= ')"
}
lock # held through both phases (~8 minutes with the defaults)
# Before the first round, each plugin route meets every consumer once: the
# first request of a consumer creates its limit-count counter and metrics
# series (and, on this VM, faults in fresh pages for them), which a 2 s
# warm-up covers for fewer than half of the 100,000.
for t in "${TARGETS[@]}"; do
	case $t in
	*plugins) $NICE taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${BENCH_PREWARM:-10}s" -s scripts/bench/throughput/keys.lua "$(url_of "$t")" >/dev/null ;;
	esac
done
for ((r = 1; r <= ROUNDS; r++)); do
	for t in $(rotated "$r"); do wrk_run "$r" "$t"; done
done

median() { sort -g | awk '{v[NR]=$1} END{ if (NR==0) {print "nan"; exit} if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
values() { awk -F'\t' -v t="$1" -v p="$2" -v m="$3" '$2==t && $3==p && $4==m {print $5}' "$RES"; }
med() { values "$@" | median; }
mm() { values "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{print lo, hi}'; }

NGINX_PEAK=$(med nginx sat rps)
RATE=${BENCH_RATE:-$(awk -v p="$NGINX_PEAK" 'BEGIN{printf "%d", p/2}')}
log "nginx median peak $NGINX_PEAK req/s; fixed rate $RATE req/s"

# --- phase 2: fixed rate --------------------------------------------------------
# ratebench (scripts/bench/cmd/ratebench): open loop, fasthttp client, the
# same random keys as wrk's. vegeta (net/http) could not keep this rate on
# the core it shares with the upstream: it measured its own backlog.
rate_run() { # ROUND TARGET
	local r=$1 t=$2 pids b a out
	pids=$(pids_of "$t")
	$NICE taskset -c $LOAD_CPU "$BIN/ratebench" -url "$(url_of "$t")" -rate "$RATE" -duration "${WARM}s" -conns "$CONNS" >/dev/null
	b=$(cpu_ticks $pids)
	out=$OUT/rate-$r-$t.json
	$NICE taskset -c $LOAD_CPU "$BIN/ratebench" -url "$(url_of "$t")" -rate "$RATE" -duration "${DUR}s" -conns "$CONNS" >"$out"
	a=$(cpu_ticks $pids)
	echo "$b $a" "$(jq -r '[.requests, .p50_ms, .p90_ms, .p99_ms, .max_ms, .errors + .non_200, .late, .achieved_rps] | @tsv' "$out")" |
		awk -v r="$r" -v t="$t" -v hz="$CLK_TCK" 'BEGIN{OFS="\t"} {
			n=$5; print r,t,"rate","cpu_us",(($3-$1)+($4-$2))*1e6/hz/n;
			print r,t,"rate","p50_ms",$6; print r,t,"rate","p90_ms",$7; print r,t,"rate","p99_ms",$8;
			print r,t,"rate","max_ms",$9; print r,t,"rate","failed",$10; print r,t,"rate","late",$11; print r,t,"rate","achieved_rps",$12 }' >>"$RES"
	log "round $r $t at $RATE/s: $(grep -P "^$r\t$t\trate\t(p50_ms|p99_ms|failed|late)\t" "$RES" | cut -f4,5 | tr '\t\n' '= ')"
}
for ((r = 1; r <= ROUNDS; r++)); do
	for t in $(rotated "$r"); do rate_run "$r" "$t"; done
done
unlock

# --- report -------------------------------------------------------------------------
fmt() { # TARGET PHASE METRIC DECIMALS → "median (min–max)"
	local m lo hi
	m=$(med "$1" "$2" "$3")
	read -r lo hi < <(mm "$1" "$2" "$3")
	awk -v m="$m" -v lo="$lo" -v hi="$hi" -v d="$4" 'BEGIN{ f="%." d "f"; printf f " (" f "–" f ")", m, lo, hi }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.2f", a/b }'; }
verdict() { awk -v x="$1" -v op="$2" -v g="$3" 'BEGIN{ ok = (op == ">=") ? x >= g : x <= g; print ok ? "met" : "NOT met" }'; }
{
	echo "### Data plane throughput ($(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds × ${DUR}s, warm-up ${WARM}s, $BENCH_CONSUMERS consumers)"
	echo
	echo "Node start with $BENCH_CONSUMERS consumers: ${START_S}s. Saturation: wrk -t1 -c$CONNS. Fixed rate: ratebench, $CONNS connections, at $RATE req/s."
	echo
	echo "| target | requests/s | proxy CPU µs/request (user + system) | errors (wrk / fixed rate) | p50 ms @ $RATE/s | p90 ms | p99 ms | CPU µs/req @ $RATE/s |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for t in "${TARGETS[@]}"; do
		cpu="$(fmt "$t" sat cpu_us 1) ($(fmt "$t" sat usr_us 1 | cut -d' ' -f1) + $(fmt "$t" sat sys_us 1 | cut -d' ' -f1))"
		rcpu=$(fmt "$t" rate cpu_us 1)
		[ "$t" = direct ] && cpu="— (upstream: $cpu)" && rcpu="—"
		echo "| $t | $(fmt "$t" sat rps 0) | $cpu | $(values "$t" sat errors | awk '{s+=$1} END{print s+0}') / $(values "$t" rate failed | awk '{s+=$1} END{print s+0}') | $(fmt "$t" rate p50_ms 3) | $(fmt "$t" rate p90_ms 3) | $(fmt "$t" rate p99_ms 3) | $rcpu |"
	done
	echo
	rps3=$(med node-plugins sat rps) rps1=$NGINX_PEAK rps2=$(med node sat rps)
	cpu3=$(med node-plugins sat cpu_us) cpu1=$(med nginx sat cpu_us)
	p50d=$(awk -v a="$(med node-plugins rate p50_ms)" -v b="$(med direct rate p50_ms)" 'BEGIN{printf "%.3f", a-b}')
	p99d=$(awk -v a="$(med node-plugins rate p99_ms)" -v b="$(med direct rate p99_ms)" 'BEGIN{printf "%.3f", a-b}')
	echo "| goal | figure (medians) | result |"
	echo "| --- | ---: | --- |"
	echo "| (3) node-plugins ≥ 0.8× (1) nginx in throughput | $(ratio "$rps3" "$rps1")× | $(verdict "$(ratio "$rps3" "$rps1")" ">=" 0.8) |"
	echo "| (3) ≤ 1.25× (1)'s CPU per request | $(ratio "$cpu3" "$cpu1")× | $(verdict "$(ratio "$cpu3" "$cpu1")" "<=" 1.25) |"
	echo "| (3) ≥ 0.9× (2) node without plugins | $(ratio "$rps3" "$rps2")× | $(verdict "$(ratio "$rps3" "$rps2")" ">=" 0.9) |"
	rcpu3=$(med node-plugins rate cpu_us) rcpu2=$(med node rate cpu_us) rcpu1=$(med nginx rate cpu_us)
	echo "| (3)'s CPU per request ≤ 1.25× (1)'s, both at $RATE/s (same load: no batching advantage) | $(ratio "$rcpu3" "$rcpu1")× | $(verdict "$(ratio "$rcpu3" "$rcpu1")" "<=" 1.25) |"
	echo "| (informative) (3)'s CPU per request against (2)'s, both at $RATE/s: what the four plugins cost | $(ratio "$rcpu3" "$rcpu2")× ($(awk -v a="$rcpu3" -v b="$rcpu2" 'BEGIN{printf "%+.1f", a-b}') µs) | — |"
	if [ -n "${BENCH_FLOOR:-}" ]; then
		cpu0=$(med fasthttp-bare sat cpu_us)
		echo "| (informative) the floor: fasthttp-bare's CPU per request against (1)'s; (3)'s against fasthttp-bare's | $(ratio "$cpu0" "$cpu1")×; $(ratio "$cpu3" "$cpu0")× | — |"
	fi
	echo "| added p50 ≤ 0.2 ms over direct, at $RATE/s | $p50d ms | $(verdict "$p50d" "<=" 0.2) |"
	echo "| added p99 ≤ 1 ms over direct, at $RATE/s | $p99d ms | $(verdict "$p99d" "<=" 1) |"
	echo
	echo "Per-round ratios (node-plugins/nginx requests/s): $(for ((r = 1; r <= ROUNDS; r++)); do
		awk -F'\t' -v r="$r" '$1==r && $3=="sat" && $4=="rps" {v[$2]=$5} END{printf "%.2f ", v["node-plugins"]/v["nginx"]}' "$RES"
	done)"
	echo "Raw results: ${OUT#"$ROOT"/}"
} | tee "$OUT/summary.md"
