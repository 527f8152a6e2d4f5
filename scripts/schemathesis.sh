#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document: starts the debug
# server on a free port against a fresh database, signs up, creates an API
# key with every scope, and runs schemathesis. Fails on any 5xx or any
# response that does not conform to the document (status, content type,
# schema). Usage: scripts/schemathesis.sh sqlite|postgres [max-examples]
#
# scripts/test.sh runs the example, coverage and fuzzing phases with a fixed
# seed (the same cases every run, so CI is repeatable). The stateful phase
# chains real ids from one call into the next and differs from run to run;
# run it, longer, with:
#   CORRAL_SCHEMATHESIS_PHASES=examples,coverage,fuzzing,stateful scripts/schemathesis.sh postgres 50
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
examples="${2:-15}"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

case "$backend" in
  sqlite) database_url="sqlite://$work/corral.db" ;;
  postgres)
    admin="${CORRAL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
    psql "$admin" -qc 'DROP DATABASE IF EXISTS corral_schemathesis WITH (FORCE)' >/dev/null
    psql "$admin" -qc 'CREATE DATABASE corral_schemathesis' >/dev/null
    database_url="${admin%/*}/corral_schemathesis"
    ;;
  *) echo "usage: $0 sqlite|postgres [max-examples]" >&2; exit 2 ;;
esac

[[ -x target/debug/corral ]] || cargo build -p server --locked
DATABASE_URL="$database_url" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  target/debug/corral >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
  [[ "$backend" != postgres ]] || psql "$admin" -qc 'DROP DATABASE IF EXISTS corral_schemathesis WITH (FORCE)' >/dev/null || true
}
trap cleanup EXIT

base="http://127.0.0.1:$port/api/v1"
for _ in $(seq 100); do curl -sf "$base/openapi.json" >/dev/null && break; sleep 0.2; done
curl -sf -c "$work/cookies" -H 'content-type: application/json' \
  -d '{"email":"fuzz@corral.test","password":"correct horse battery staple","name":"Fuzz","workspace_name":"Fuzz"}' \
  "$base/auth/signup" >/dev/null
key=$(curl -sf -b "$work/cookies" -H 'content-type: application/json' \
  -d '{"name":"schemathesis","scopes":["crm:read","crm:write","revenue:read","revenue:write","marketing:read","marketing:write","flows:read","flows:write"]}' \
  "$base/api-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

# Logging out and revoking keys would end the run's own credentials.
schemathesis run "$base/openapi.json" --url "$base" -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases "${CORRAL_SCHEMATHESIS_PHASES:-examples,coverage,fuzzing}" \
  --max-examples "$examples" --workers 1 --seed 1 ${CORRAL_SCHEMATHESIS_ARGS:-} \
  --exclude-path /auth/logout --exclude-path-regex '/api-keys/.*/revoke' \
  || { echo "--- server log (last 40 lines)"; tail -40 "$work/server.log"; exit 1; }
