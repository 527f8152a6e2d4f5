#!/usr/bin/env bash
# Benchmark: a 1-step sequence to N recipients (default 100,000) through
# the outbox to a loopback SMTP sink, against the sink's own accept rate
# measured in the same run. Optimised build (server-release); one BENCH line per run.
#   scripts/bench-email.sh [RUNS] [RECIPIENTS]      (CORRAL_TEST_BACKEND=postgres for PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export BENCH_RECIPIENTS="${2:-100000}"
for _ in $(seq "$runs"); do
  cargo test --profile server-release --locked -p server --test api bench_outbox -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
