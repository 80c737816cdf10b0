#!/usr/bin/env bash
# make bench: every benchmark the README and BENCHMARKS.md quote, one after the other
# (never in parallel: they share the machine's two cores). Each script installs what
# it needs and prints its own tables; results land under bench-results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench-results
for part in ${BENCH_PARTS:-throughput churn propagation portal}; do
	echo "== bench: $part"
	"./scripts/bench/$part.sh"
done
