#!/usr/bin/env bash
# Runs every test: unit tests, the integration suite against SQLite and
# against PostgreSQL, then the browser tests against the release build.
#
# PostgreSQL: CORRAL_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
# names a database the tests connect to in order to create one fresh
# database per test; they are all dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH"

started=$SECONDS
# A clean checkout builds everything once: incremental compilation would
# only add its bookkeeping.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi
log() { printf '\033[1;34m[test %4ds]\033[0m %s\n' "$((SECONDS - started))" "$*"; }

scripts/setup.sh --tests

export CORRAL_TEST_POSTGRES_URL="${CORRAL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
drop_test_databases() {
  psql "$CORRAL_TEST_POSTGRES_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'corral_test_%'" 2>/dev/null \
    | while read -r db; do psql "$CORRAL_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done || true
}
if ! psql "$CORRAL_TEST_POSTGRES_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL is not reachable at $CORRAL_TEST_POSTGRES_URL; start it or set CORRAL_TEST_POSTGRES_URL" >&2
  exit 1
fi
drop_test_databases
trap drop_test_databases EXIT

# The release build (server binary + hydrate bundle, for the browser tests)
# runs beside everything else from the start: it builds into its own
# profile directories, so it waits on no lock of the debug builds, and it
# fills the cores the test runs leave idle while they wait on databases,
# workers and schemathesis (one Python thread). Its output is kept apart
# and shown when it is waited for.
mkdir -p target
log "release build (server binary + hydrate bundle) starts in the background: target/release-build.log"
# In its own process group (setsid), so a failure elsewhere stops all of it.
setsid cargo leptos build --release >target/release-build.log 2>&1 &
release_build=$!
stop_release_build() { kill -- "-$release_build" 2>/dev/null || true; drop_test_databases; }
trap stop_release_build EXIT

log "formatting and lints (server and wasm targets)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p app -p frontend --lib --target wasm32-unknown-unknown --features app/hydrate --locked -- -D warnings

# Every benchmark (an ignored `bench_` test) runs once, at a small size,
# inside each suite: they must keep working; their figures come from
# scripts/bench-*.sh. Doc examples are `text`, not `ignore`, so
# --include-ignored adds nothing else.
export BENCH_LEADS=3000 BENCH_SAMPLES=20 BENCH_RECIPIENTS=200 BENCH_RUNS=50

log "unit and integration tests on SQLite, benchmarks included at a small size"
# Without the frontend crate: it turns on app's `hydrate` feature, and built
# together with the server (Cargo unifies features in one build) the server
# would run the browser's effects while it lists the routes. The frontend is
# checked by the wasm clippy above and built by cargo leptos.
CORRAL_TEST_BACKEND=sqlite cargo test --workspace --exclude frontend --locked -- --include-ignored

log "integration tests on PostgreSQL, benchmarks included at a small size"
# The same packages as the SQLite run (not `-p server`): another selection
# resolves other features and rebuilds the app and the test binary.
CORRAL_TEST_BACKEND=postgres cargo test --workspace --exclude frontend --locked --test api -- --include-ignored

log "schemathesis against the OpenAPI document, on SQLite and PostgreSQL side by side"
scripts/schemathesis.sh sqlite >target/schemathesis-sqlite.log 2>&1 &
schemathesis_sqlite=$!
scripts/schemathesis.sh postgres >target/schemathesis-postgres.log 2>&1 &
schemathesis_postgres=$!
schemathesis_failed=0
wait "$schemathesis_sqlite" || schemathesis_failed=1
tail -25 target/schemathesis-sqlite.log
wait "$schemathesis_postgres" || schemathesis_failed=1
tail -25 target/schemathesis-postgres.log
if [[ $schemathesis_failed != 0 ]]; then
  echo "schemathesis failed; full logs: target/schemathesis-{sqlite,postgres}.log" >&2
  exit 1
fi

log "waiting for the release build"
if ! wait "$release_build"; then
  tail -60 target/release-build.log
  echo "the release build failed; full log: target/release-build.log" >&2
  exit 1
fi
tail -3 target/release-build.log

log "browser tests"
(cd end2end && CI="${CI:-}" npx playwright test)
log "all passed"
