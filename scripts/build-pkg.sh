#!/usr/bin/env bash
# Builds pkg/ with wasm-pack: one web-target build that serves browsers and Workers (ES module,
# explicit init) and Node (through the "node" export condition, js/node.js). Prints the .wasm size
# and fails if it passes the budget. Expects the tools of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

# SPEC §6 / issue 10: the .wasm is paid at every cold start; docs/PERFORMANCE.md has its breakdown.
BUDGET_GZIP_BYTES=$((48 * 1024))

# --mode no-install: never let wasm-pack download wasm-bindgen or wasm-opt itself.
# --profile wasm-release: the size-tuned cargo profile of Cargo.toml (the origin keeps
# [profile.release]); wasm-opt -Oz from [package.metadata.wasm-pack.profile.custom].
wasm-pack --quiet build --profile wasm-release --target web --mode no-install --out-dir pkg --out-name jwtedge

# The npm package: entries, types, README and package.json (scripts/pkg-manifest.mjs).
node scripts/pkg-manifest.mjs pkg

raw=$(stat -c %s pkg/jwtedge_bg.wasm)
gz=$(gzip -9 -c pkg/jwtedge_bg.wasm | wc -c)
printf 'pkg/jwtedge_bg.wasm: %d bytes raw (%.1f KiB), %d bytes gzip -9 (%.1f KiB); budget %d KiB gzipped\n' \
  "$raw" "$(awk "BEGIN{print $raw/1024}")" "$gz" "$(awk "BEGIN{print $gz/1024}")" $((BUDGET_GZIP_BYTES / 1024))
if [ "$gz" -gt "$BUDGET_GZIP_BYTES" ]; then
  echo "pkg/jwtedge_bg.wasm is over its size budget" >&2
  exit 1
fi
