#!/usr/bin/env bash
# Every page with the sample data loaded, at 1,400 and 390 pixels, into
# end2end/screenshots/ (and checked by axe-core on the way): the browser
# suite's tour alone. Needs the release build (cargo leptos build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH"
if [[ ! -x target/server-release/corral ]]; then
  echo "build first: cargo leptos build --release" >&2
  exit 1
fi
cd end2end
npx playwright test tests/tour.spec.ts "$@"
echo "screenshots: $(pwd)/screenshots/1400 and $(pwd)/screenshots/390"
