#!/usr/bin/env bash
# Installs what building and testing Corral needs, skipping whatever is
# already there. Usage: scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.10 is the newest that builds on Rust 1.95; no_downloads
# keeps it from fetching tools from the internet at build time.
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  log "installing cargo-leptos 0.3.10 (takes ~15 minutes on 2 cores)"
  cargo install cargo-leptos --locked --version 0.3.10 --no-default-features --features no_downloads
fi

# wasm-bindgen-cli must match the wasm-bindgen the bundle links exactly.
wasm_bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wasm_bindgen_version}\$"; then
  log "installing wasm-bindgen-cli ${wasm_bindgen_version}"
  cargo install wasm-bindgen-cli --version "${wasm_bindgen_version}" --locked \
    || cargo install wasm-bindgen-cli --version "${wasm_bindgen_version}"
fi

# Release builds shrink the bundle with wasm-opt: binaryen from the npm
# registry (Debian's older one corrupts wasm-bindgen's externref table).
# run.sh and test.sh put tools/node_modules/.bin first on PATH.
if [[ ! -x tools/node_modules/.bin/wasm-opt ]]; then
  log "installing wasm-opt (binaryen) into tools/"
  (cd tools && npm ci --no-audit --no-fund)
fi

if [[ "${1:-}" == "--tests" ]]; then
  if [[ ! -x /usr/bin/chromium ]]; then
    log "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
  if ! command -v psql >/dev/null; then
    log "installing the PostgreSQL client"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql-client >/dev/null
  fi
  # schemathesis fuzzes the REST API from its OpenAPI document (scripts/schemathesis.sh).
  if ! schemathesis --version 2>/dev/null | grep -q 'version 4\.'; then
    log "installing schemathesis 4 (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.*"
  fi
  # The official MCP Python SDK, a real client for the /mcp tests.
  if ! python3 -c 'import mcp, httpx2' 2>/dev/null; then
    log "installing the MCP Python SDK (PyPI mcp 2.3)"
    python3 -m pip install --quiet --disable-pip-version-check "mcp==2.3.*"
  fi
  if [[ ! -x end2end/node_modules/.bin/playwright || ! -d end2end/node_modules/@modelcontextprotocol/sdk || ! -d end2end/node_modules/@axe-core/playwright ]]; then
    log "installing the browser-test packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
