#!/usr/bin/env bash
# Benchmark: runs per second of a webhook-triggered flow (branch, then an
# HTTP request to a loopback server) against that server's own rate for
# the same requests measured in the same run, and the median delay from a
# webhook or a CRM event (lead.created) to its run starting, at the default
# 200 ms poll. Optimised build (server-release); one BENCH line per run.
#   scripts/bench-flows.sh [RUNS] [FLOW_RUNS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export BENCH_RUNS="${2:-2000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_flow_runs -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
