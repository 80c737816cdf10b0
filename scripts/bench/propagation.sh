#!/usr/bin/env bash
# Propagation: Admin API change → first different answer at a real data plane
# node (approve → 200, revoke → 403, publish → 200), 300 changes of each kind,
# under background traffic and background approvals; on SQLite, then on
# PostgreSQL when DATABASE_URL is set (or PostgreSQL answers on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench-results
# No other benchmark of the project runs meanwhile (they take the same lock).
exec 9>/tmp/devportal-bench.lock
flock 9
n=${PROPAGATION_CHANGES:-300}
run() {
	echo "-- propagation on $1 ($n changes of each kind)"
	DATABASE_URL="$2" go test ./handlers -run '^$' -bench Propagation -benchtime "${n}x" -timeout 30m |
		tee "bench-results/propagation-$1.txt" | grep Benchmark | tr '\t' '\n' | sed -n 's/^ *//p' | grep -E 'ms|/s|each'
}
run sqlite ""
pg=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "${DATABASE_URL:-}" ]; then
	run postgres "$pg"
fi
