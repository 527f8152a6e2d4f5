#!/usr/bin/env bash
# Benchmark: at N leads (default 1,000,000) the median latency of a
# filtered lead list, a `q` search and the search box against a one-lead
# read, and a segment's CSV export against a plain SELECT of the same rows,
# all measured in the same run; prints the query plans. Optimised build.
#   scripts/bench-reads.sh [RUNS] [LEADS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
export BENCH_LEADS="${2:-1000000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_reads -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
