#!/usr/bin/env bash
# Installs what building and testing jwtedge needs, from the package registries only, at pinned
# versions. Idempotent: whatever is already there at the right version is left alone.
#   scripts/setup.sh [wasm] [browser] [postgres] [npm] [bench]    (no argument: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WASM_PACK_VERSION=0.15.1
# wasm-bindgen-cli must match the wasm-bindgen crate exactly; Cargo.toml pins it with "=".
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml)

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(wasm browser postgres npm bench)
has() { [[ " ${want[*]} " == *" $1 "* ]]; }
log() { printf '[setup] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if has wasm; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
    log "cargo install wasm-pack $WASM_PACK_VERSION (about 5 minutes, once)"
    cargo install --quiet --locked wasm-pack --version "$WASM_PACK_VERSION"
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    # No --locked: its lockfile pins a yanked crate.
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes, once)"
    cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  # wasm-opt from the npm package binaryen (Debian's v108 emits wasm Node 20 cannot load).
  if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
    log "npm ci in tools/ (binaryen)"
    npm ci --prefix tools --no-audit --no-fund --loglevel=error
  fi
fi

if has browser; then
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
fi

if has postgres; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
fi

if has bench; then
  # The origin's load generator.
  command -v wrk >/dev/null || apt_install wrk
fi

if has npm; then
  # tests/node links ../../pkg, so pkg/ must have been built first (scripts/build-pkg.sh).
  if [ -f pkg/package.json ]; then
    log "npm ci in tests/node"
    npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
  else
    log "pkg/ not built yet: skipping npm ci in tests/node"
  fi
fi
log "ready"
