#!/usr/bin/env bash
# Benchmark (not a test): the same read and the same write through MCP
# `tools/call` and through REST, on one release server over SQLite, measured
# in one run with wrk; prints each p50 and the MCP/REST ratio.
#
# Usage: scripts/bench-mcp.sh [SECONDS]   (default 10 per case; needs the
# release build: cargo leptos build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
bin="${CORRAL_BIN:-target/server-release/corral}"
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$work/bench.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  CORRAL_DATA_DIR="$work/data" CORRAL_MCP_CALLS_PER_MINUTE=100000000 "$bin" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "$base/api/v1/me" -o /dev/null -w '' 2>/dev/null && break; curl -s "$base/" -o /dev/null && break; sleep 0.2; done

jar="$work/cookies"
curl -s -c "$jar" -H 'content-type: application/json' "$base/api/v1/auth/signup" \
  -d '{"name":"Bench","email":"bench@example.com","password":"correct horse battery","workspace_name":"Bench"}' >/dev/null
key=$(curl -s -b "$jar" -H 'content-type: application/json' "$base/api/v1/api-keys" \
  -d '{"name":"bench","scopes":["crm:read","crm:write"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
for i in $(seq 200); do
  curl -s -H "authorization: Bearer $key" -H 'content-type: application/json' "$base/api/v1/leads" \
    -d "{\"name\":\"Lead $i\",\"email\":\"lead$i@example.com\"}" >/dev/null
done

cat >"$work/mcp_list.lua" <<LUA
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer $key"
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
wrk.headers["mcp-protocol-version"] = "2025-06-18"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_leads","arguments":{"limit":25}}}'
LUA
cat >"$work/mcp_create.lua" <<LUA
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer $key"
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
wrk.headers["mcp-protocol-version"] = "2025-06-18"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_lead","arguments":{"name":"Bench lead"}}}'
LUA
cat >"$work/rest_create.lua" <<LUA
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer $key"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"name":"Bench lead"}'
LUA

p50() { # wrk --latency output → the 50% line in ms
  awk '/^ +50%/ { v=$2; if (v ~ /us$/) { sub(/us/,"",v); v=v/1000 } else if (v ~ /ms$/) { sub(/ms/,"",v) } else if (v ~ /s$/) { sub(/s/,"",v); v=v*1000 } print v }'
}
run() { wrk -t2 -c4 -d"${secs}s" --latency "$@" 2>/dev/null | p50; }

rest_list=$(run -H "authorization: Bearer $key" "$base/api/v1/leads?limit=25")
mcp_list=$(run -s "$work/mcp_list.lua" "$base/mcp")
rest_create=$(run -s "$work/rest_create.lua" "$base/api/v1/leads")
mcp_create=$(run -s "$work/mcp_create.lua" "$base/mcp")
printf 'list_leads  p50: REST %s ms, MCP %s ms, ratio %s\n' "$rest_list" "$mcp_list" "$(awk -v a="$mcp_list" -v b="$rest_list" 'BEGIN{printf "%.2f", a/b}')"
printf 'create_lead p50: REST %s ms, MCP %s ms, ratio %s\n' "$rest_create" "$mcp_create" "$(awk -v a="$mcp_create" -v b="$rest_create" 'BEGIN{printf "%.2f", a/b}')"
