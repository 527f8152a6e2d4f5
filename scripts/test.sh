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

log() { printf '\033[1;34m[test]\033[0m %s\n' "$*"; }

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

log "formatting and lints (server and wasm targets)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p app -p frontend --lib --target wasm32-unknown-unknown --features app/hydrate --locked -- -D warnings

log "unit and integration tests on SQLite"
# Without the frontend crate: it turns on app's `hydrate` feature, and built
# together with the server (Cargo unifies features in one build) the server
# would run the browser's effects while it lists the routes. The frontend is
# checked by the wasm clippy above and built by cargo leptos below.
CORRAL_TEST_BACKEND=sqlite cargo test --workspace --exclude frontend --locked

log "integration tests on PostgreSQL"
CORRAL_TEST_BACKEND=postgres cargo test -p server --locked --tests

log "every benchmark once at a small size, on SQLite and PostgreSQL (they must keep working; figures come from scripts/bench-*.sh)"
for backend in sqlite postgres; do
  CORRAL_TEST_BACKEND=$backend BENCH_LEADS=3000 BENCH_SAMPLES=20 BENCH_RECIPIENTS=200 BENCH_RUNS=50 \
    cargo test -p server --locked --test api bench_ -- --ignored --test-threads 1
done

log "schemathesis against the OpenAPI document, on SQLite and PostgreSQL"
scripts/schemathesis.sh sqlite
scripts/schemathesis.sh postgres

log "release build (server binary + hydrate bundle)"
cargo leptos build --release

log "browser tests"
(cd end2end && CI="${CI:-}" npx playwright test)
