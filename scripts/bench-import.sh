#!/usr/bin/env bash
# Benchmark: a CSV of N leads (default 1,000,000) through the import job
# against the database engine inserting the same rows into a copy of
# `leads` with its indexes, measured in the same run (SQLite: INSERT …
# SELECT; PostgreSQL: COPY). Optimised build; one BENCH line per run.
#   scripts/bench-import.sh [RUNS] [LEADS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export BENCH_LEADS="${2:-1000000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_import -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
