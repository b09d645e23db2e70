#!/usr/bin/env bash
# Fuzzes for as long as asked (the test command runs the same harnesses for a few seconds):
#   1. the core fuzzer, tests/fuzz_core.rs, for SECONDS on tokens (keysets get half of it and
#      Cache-Control/Age a quarter, in parallel); a debug build on purpose, so that overflow checks
#      turn silent wrap-arounds into failures;
#   2. the jose differential, tests/node/differential_jose.test.mjs, on CASES mutated tokens,
#      against a pkg/ rebuilt from the current source (skipped when the wasm tools are missing).
# Usage: bash scripts/fuzz.sh [SECONDS=600] [CASES=100000]
# Every run prints its seeds; JWTEDGE_FUZZ_SEED=… (and JWTEDGE_FUZZ_CASE=…) or JWTEDGE_DIFF_SEED=…
# replay one, and a failure prints the exact line that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
seconds="${1:-600}"
cases="${2:-100000}"

echo "=== core fuzzer: ${seconds} s"
JWTEDGE_FUZZ_SECONDS="$seconds" cargo test --test fuzz_core

echo "=== jose differential: ${cases} tokens"
if ! command -v wasm-pack >/dev/null; then
  echo "skipped: wasm-pack is not installed (bash scripts/setup.sh wasm)" >&2
  exit 0
fi
bash scripts/build-pkg.sh
bash scripts/setup.sh npm
(cd tests/node && JWTEDGE_DIFF_CASES="$cases" node --test differential_jose.test.mjs)
