#!/usr/bin/env bash
# Tests pkg/ as npm users get it (issue 10; SPEC §6 "The package"), from tests/package/:
#   types     tsc --strict --noEmit on correct usage and on the classic mistakes, lib ES2022 and ESNext
#   examples  the package README's Workers, jwtedge/fetch and Hono examples bundled by wrangler and
#             run in workerd, the browser example in headless Chromium, the Node example in node
#   entries   "jwtedge" under wrangler is the Workers entry; jwtedge/hono in Node
#   tarball   npm pack, npm install of the tarball into a fresh project, its Workers example in workerd
# Idempotent. Sets up what is missing: pkg/ (bash scripts/build-pkg.sh) if it has not been built,
# Chromium (scripts/setup.sh browser), tests/package/node_modules (npm ci when its lockfile changed).
# The package's own files are refreshed from js/ first (scripts/pkg-manifest.mjs), so an edit there
# is tested without rebuilding the .wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false DO_NOT_TRACK=1 WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
log() { printf '[test-package] %s\n' "$*"; }

if [ ! -f pkg/jwtedge.js ] || [ ! -f pkg/jwtedge_bg.wasm ]; then
  log "pkg/ not built: bash scripts/build-pkg.sh"
  bash scripts/build-pkg.sh
fi
node scripts/pkg-manifest.mjs pkg
if [ ! -x /usr/bin/chromium ]; then
  log "chromium missing: bash scripts/setup.sh browser"
  bash scripts/setup.sh browser
fi

lock_sum=$(sha256sum tests/package/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/package/node_modules/.jwtedge-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  log "npm ci in tests/package"
  npm ci --prefix tests/package --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > tests/package/node_modules/.jwtedge-lock-sum
fi

cd tests/package
rm -rf .work
# One file at a time: the machine is shared, and each starts workerd or Chromium.
node --test --test-concurrency=1 --test-reporter=spec types.test.mjs examples.test.mjs entries.test.mjs tarball.test.mjs
