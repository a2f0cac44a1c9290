#!/usr/bin/env bash
# Benchmarks (never part of `make test`), on SQLite and on PostgreSQL; docs/benchmarks.md
# says what each measures and records the figures.
# Usage: scripts/bench.sh [extra bench.usage_update args, e.g. --orgs 20000 or --repeats 5]
# BENCH_ORGS (default 100000) sets the size, BENCH_ENGINES (default sqlite,postgres)
# the engines, BENCH_PG_URL the throw-away PostgreSQL database (dropped and created).
set -euo pipefail
cd "$(dirname "$0")/.."
engines=${BENCH_ENGINES:-sqlite,postgres}
if [[ $engines == *postgres* ]] && ! scripts/pg.sh; then
  echo "" >&2
  echo "!! WARNING: no PostgreSQL on 127.0.0.1:5432 — benchmarking SQLite ONLY !!" >&2
  echo "" >&2
  engines=sqlite
fi
mkdir -p bench/out
status=0
.venv/bin/python -m bench.usage_update --engines "$engines" \
  --json "bench/out/usage_update-$(date +%Y%m%d-%H%M%S).json" "$@" || status=$?
# Billing periods: an update's cost at 60 days of history against 5 (flat), and the
# update that closes a period against a plain one.
.venv/bin/python -m bench.periods --engines "$engines" \
  --json "bench/out/periods-$(date +%Y%m%d-%H%M%S).json" || status=$?
# The ingest API over HTTP against direct bulk insert of the same rows: the ingest ratio.
.venv/bin/python -m bench.ingest --engines "$engines" \
  --json "bench/out/ingest-$(date +%Y%m%d-%H%M%S).json" || status=$?
# The Usage pages at 10,000 resellers and 200,000 organizations: time and SQL queries per
# page; and report generation against the database's own CSV export of the same rows.
.venv/bin/python -m bench.pages --engines "$engines" \
  --json "bench/out/pages-$(date +%Y%m%d-%H%M%S).json" || status=$?
.venv/bin/python -m bench.reports --engines "$engines" \
  --json "bench/out/reports-$(date +%Y%m%d-%H%M%S).json" || status=$?
# Load: 100 staff users (locust, headless, loopback only) browsing a real `hostmeter serve`
# while a 100,000-row organizations report generates: p99 < 300 ms, 0 errors; about 3 min
# an engine, every process it starts killed at the end.
.venv/bin/python -m bench.load --engines "$engines" \
  --json "bench/out/load-$(date +%Y%m%d-%H%M%S).json" || status=$?
exit $status
