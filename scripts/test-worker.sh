#!/usr/bin/env bash
# Runs the worker's tests (issue 4: a–g, coalescing, the colo cache, wrangler) in real workerd
# (miniflare's API and `wrangler dev`), against the real jwtedge-origin binary on loopback, with
# Debian's headless Chromium for the browser test. Idempotent; on a fresh clone run
# `bash scripts/setup.sh` first (or let scripts/test.sh do it). Sets up what is missing:
#   - pkg/ (bash scripts/build-pkg.sh) if it has not been built
#   - worker/node_modules (npm ci) when package-lock.json changed; the worker depends on the
#     package as `"jwtedge": "file:../pkg"`, which npm links (node_modules/jwtedge → ../../pkg),
#     so a rebuilt pkg/ is what the tests and wrangler bundle, without a reinstall
#   - the origin binary (cargo build --bin jwtedge-origin; incremental)
# Exits non-zero on any failure and ends with the test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=never
export WRANGLER_SEND_METRICS=false DO_NOT_TRACK=1 WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
log() { printf '[test-worker] %s\n' "$*"; }

if [ ! -f pkg/jwtedge.js ] || [ ! -f pkg/jwtedge_bg.wasm ] || [ ! -f pkg/fetch.js ]; then
  log "pkg/ not built: bash scripts/build-pkg.sh"
  bash scripts/build-pkg.sh
fi
if [ ! -x /usr/bin/chromium ]; then
  log "chromium missing: bash scripts/setup.sh browser"
  bash scripts/setup.sh browser
fi

lock_sum=$(sha256sum worker/package-lock.json | cut -d' ' -f1)
if [ "$(cat worker/node_modules/.jwtedge-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  log "npm ci in worker/"
  npm ci --prefix worker --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > worker/node_modules/.jwtedge-lock-sum
fi

log "cargo build --bin jwtedge-origin"
cargo build --quiet --bin jwtedge-origin
export JWTEDGE_ORIGIN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/jwtedge-origin"

rm -rf worker/test-output
mkdir -p worker/test-output

cd worker
# One file at a time: the tests measure timing, and the machine is shared.
node --test --test-concurrency=1 --test-reporter=spec test/*.test.js
