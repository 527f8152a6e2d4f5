#!/usr/bin/env bash
# Builds and runs Corral. With no DATABASE_URL it keeps its data in the
# SQLite file ./corral.db; DATABASE_URL=postgres://… uses PostgreSQL.
# Serves http://127.0.0.1:3000 (LEPTOS_SITE_ADDR changes it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH"
scripts/setup.sh
cargo leptos build --release
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
exec target/server-release/corral
