#!/usr/bin/env bash
# Portal at scale (docs/bench/portal-scale.md): `devportal seed` fills a data dir
# (SQLite, or PostgreSQL when the server answers) at each size, then a devportal
# on it answers every page and Admin API list N times (p50/p99, markdown table),
# and, at the large size, 1,000 concurrent approvals are checked (none lost, no
# "database is locked", outbox drained, each on its API's whitelist in etcd).
#
# Environment (defaults): SIZES="small large" DBS="sqlite postgres" N=200
# APPROVALS=1000 PG_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
# DATA=bench-results/portal-data (seeded data dirs are kept and reused; delete
# one to seed it again). Quick run: SIZES=small DBS=sqlite N=20 ./scripts/bench/portal.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-small large} DBS=${DBS:-sqlite postgres} N=${N:-200} APPROVALS=${APPROVALS:-1000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
DATA=${DATA:-bench-results/portal-data}
LISTEN=127.0.0.1:18480
LOCK=/tmp/devportal-bench.lock
TOKEN=portalbench-admin-token-0123456789 EMAIL=admin@bench.example PASSWORD=bench-pass-123

out=bench-results/portal-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" "$DATA"
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
go build -o "$work/devportal" ./cmd/devportal
go build -o "$work/portalbench" ./scripts/bench/cmd/portalbench
git rev-parse HEAD >"$out/commit"
git status --short >>"$out/commit"

# pg_url NAME is PG_URL with the database NAME.
pg_url() { echo "$PG_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }

for db in $DBS; do
	if [ "$db" = postgres ] && ! psql "$PG_URL" -qAtc 'select 1' >/dev/null 2>&1; then
		echo "== portal: PostgreSQL does not answer at $PG_URL; skipped"
		continue
	fi
	# A data dir's embedded etcd keeps the URLs it was seeded with.
	if [ "$db" = sqlite ]; then ETCD=http://127.0.0.1:23791 PEER=http://127.0.0.1:23801; LISTEN=127.0.0.1:18480
	else ETCD=http://127.0.0.1:23792 PEER=http://127.0.0.1:23802; LISTEN=127.0.0.1:18481; fi
	for size in $SIZES; do
		dir=$DATA/$db-$size
		dburl=""
		if [ "$db" = postgres ]; then
			dburl=$(pg_url "devportal_bench_$size")
		fi
		if [ ! -f "$dir/seeded" ]; then
			echo "== portal: seeding $size on $db into $dir"
			rm -rf "$dir"
			mkdir -p "$dir"
			if [ "$db" = postgres ]; then
				psql "$PG_URL" -qc "DROP DATABASE IF EXISTS devportal_bench_$size" -c "CREATE DATABASE devportal_bench_$size"
			fi
			start=$(date +%s)
			DATABASE_URL=$dburl "$work/devportal" seed --size "$size" --data-dir "$dir" \
				--etcd-listen $ETCD --etcd-peer-listen $PEER | tee "$out/seed-$db-$size.log"
			echo "$(($(date +%s) - start))" >"$dir/seeded"
		fi
		echo "seed $db $size: $(cat "$dir/seeded") s" | tee -a "$out/seed-times.txt"

		echo "== portal: $db $size"
		DATABASE_URL=$dburl DEVPORTAL_ADMIN_TOKEN=$TOKEN DEVPORTAL_ADMIN_EMAIL=$EMAIL DEVPORTAL_ADMIN_PASSWORD=$PASSWORD \
			"$work/devportal" --data-dir "$dir" --listen $LISTEN --etcd-listen $ETCD --etcd-peer-listen $PEER \
			--no-gateway --log-level warn --reconcile-interval 0 >"$out/server-$db-$size.log" 2>&1 &
		server=$!
		pids+=("$server")
		for _ in $(seq 600); do curl -fs "http://$LISTEN/readyz" >/dev/null && break; sleep 0.5; done
		# The start's reconcile pass reads the whole group (about a minute
		# at the large size, here); let it and the outbox finish first.
		for _ in $(seq 600); do
			[ "$(curl -fs -H "X-API-KEY: $TOKEN" "http://$LISTEN/api/v1/outbox" | sed -E 's/.*"pending":([0-9]+).*/\1/')" = 0 ] && break
			sleep 0.5
		done
		if [ "$size" = large ]; then sleep 90; else sleep 5; fi
		flock $LOCK "$work/portalbench" pages -base "http://$LISTEN" -token $TOKEN -admin-email $EMAIL \
			-admin-password $PASSWORD -n "$N" | tee "$out/pages-$db-$size.jsonl"
		if [ "$size" = large ] && [ "$APPROVALS" -gt 0 ]; then
			"$work/portalbench" approve -base "http://$LISTEN" -token $TOKEN -n "$APPROVALS" -etcd $ETCD | tee "$out/approve-$db-$size.json"
		fi
		kill "$server"
		wait "$server" || true
	done
done

# One markdown table: a row per path, p50/p99 per database and size.
python3 - "$out" <<'EOF'
import json, sys, glob, os
out = sys.argv[1]
runs, rows = [], {}
for f in sorted(glob.glob(os.path.join(out, "pages-*.jsonl"))):
    run = os.path.basename(f)[6:-6]
    runs.append(run)
    for line in open(f):
        r = json.loads(line)
        rows.setdefault(r["path"], {})[run] = r
print("\n| page or list | " + " | ".join(f"{r} p50 / p99 ms" for r in runs) + " |")
print("|---|" + "---|" * len(runs))
for path, by in rows.items():
    cells = []
    for r in runs:
        x = by.get(r)
        cells.append(f"{x['p50_ms']:.1f} / {x['p99_ms']:.1f}" + (" ⚠" if x["p99_ms"] >= 50 else "") if x else "-")
    print(f"| `{path}` | " + " | ".join(cells) + " |")
EOF
cat "$out/seed-times.txt"
echo "results: $out"
