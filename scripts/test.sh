#!/usr/bin/env bash
# Runs every test of jwtedge, installing what it needs first (scripts/setup.sh). The README's test
# command; .ci/run calls it. Steps:
#   lint     cargo fmt --check, cargo clippy -D warnings (native and wasm32)
#   native   cargo test: core, claims, cache policy, and the origin (the real binary over loopback
#            HTTP), on SQLite and on a throwaway PostgreSQL server started here (scripts/pg.sh)
#   wasm     the shared vectors and Verifier tests as wasm-bindgen tests, in Node and in headless
#            Chromium (Debian's chromium + chromedriver)
#   pkg      wasm-pack build of pkg/ (prints the .wasm size, fails over budget)
#   node     node:test suites importing pkg/ as a user would (jose interop, keyset fetching, the
#            origin's keyset through jose, 10,000 mutated tokens judged by jwtedge and by jose)
#   package  the npm package: tsc --strict type test, the README's examples run as written
#            (workerd, headless Chromium, Node), and the npm pack tarball installed and run
#   worker   the worker in real workerd against the real origin, and the browser refresh flow
#   bench    a smoke run of every benchmark (one short round), so they cannot rot
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=never

bash scripts/setup.sh wasm browser postgres bench

passed=0
step() { printf '\n=== %s\n' "$*"; }
ran() { passed=$((passed + 1)); }

step "lint"
cargo fmt --all -- --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --lib --target wasm32-unknown-unknown -- -D warnings
ran

step "native tests (PostgreSQL started for the origin's suite)"
eval "$(bash scripts/pg.sh start)"
trap 'bash "$ROOT/scripts/pg.sh" stop "$JWTEDGE_TEST_PG_DIR" >/dev/null 2>&1 || true' EXIT
export JWTEDGE_TEST_DATABASE_URL
mkdir -p target
# fuzz_core lines: the case counts of tests/fuzz_core.rs (a few seconds; scripts/fuzz.sh runs longer).
cargo test 2>&1 | tee target/native-tests.log | grep -E '^(test result|     Running|failures:|---- |fuzz_core )' || true
if grep -qE 'test result: FAILED|^error' target/native-tests.log \
   || ! grep -q 'test result: ok' target/native-tests.log; then
  cat target/native-tests.log
  echo "native tests failed" >&2
  exit 1
fi
ran

step "wasm tests in Node"
cargo test --target wasm32-unknown-unknown --test wasm_node
ran

step "wasm tests in headless Chromium"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test --target wasm32-unknown-unknown --test wasm_browser 2>&1 | tee target/browser-tests.log
# wasm-bindgen skips browser tests silently (exit 0) when misconfigured: demand that some ran.
if ! grep -qE 'test result: ok\. [1-9][0-9]* passed' target/browser-tests.log; then
  echo "no browser test ran" >&2
  exit 1
fi
ran

step "pkg/ build"
bash scripts/build-pkg.sh
ran

step "Node tests of pkg/"
bash scripts/setup.sh npm
export JWTEDGE_ORIGIN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/jwtedge-origin"
(cd tests/node && node --test --test-concurrency=1)
ran

step "package tests (types, README examples in workerd/Chromium/Node, npm pack tarball)"
bash scripts/test-package.sh
ran

step "worker tests (workerd, real origin, headless Chromium)"
bash scripts/test-worker.sh
ran

step "benchmark smoke run"
bash bench/run.sh --smoke
ran

printf '\njwtedge: %d passed, 0 failed\n' "$passed"
