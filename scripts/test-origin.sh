#!/usr/bin/env bash
# The key origin's tests: unit tests, the integration suite (real binary on loopback) on SQLite
# and on a throwaway PostgreSQL that this script starts and always stops, and the jose interop
# test. Honours CARGO_TARGET_DIR. Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

eval "$("$ROOT/scripts/pg.sh" start)"
trap '"$ROOT/scripts/pg.sh" stop "$JWTEDGE_TEST_PG_DIR"' EXIT
export JWTEDGE_TEST_DATABASE_URL

cargo test --lib origin
cargo test --test 'origin_*' "$@"

cargo build --bin jwtedge-origin
export JWTEDGE_ORIGIN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/jwtedge-origin"
cd tests/node
[ -d node_modules/jose ] || npm install --no-audit --no-fund
node --test origin_jose.test.mjs
