#!/usr/bin/env bash
# Benchmark: at N leads (default 1,000,000) with two indexed declared custom
# fields, the median live count of five segments (standard fields, a
# choice, a number, both) as the segment page reads it, against the same
# compiled count run straight on the database; then a full segment sweep
# and an incremental one after changes to N/1000 leads. Prints the plans.
# Optimised build.
#   scripts/bench-segments.sh [RUNS] [LEADS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
export BENCH_LEADS="${2:-1000000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_segment -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
