#!/usr/bin/env bash
# Benchmark: at N leads (default 1,000,000), N/10 deals (2,000 open) and
# N/10 activities, the dashboard's figures (read from the database's
# counters) against the same figures computed from the records, and the
# /pipeline, /dashboard and /leads pages at 16 concurrent kept-alive
# connections against the JSON call carrying the same data, all measured in
# the same run. Optimised build.
#   scripts/bench-pages.sh [RUNS] [LEADS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
export BENCH_LEADS="${2:-1000000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_pages -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
