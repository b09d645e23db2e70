#!/usr/bin/env bash
# The main job (README): installs what it needs, builds pkg/ and the origin, starts
# jwtedge-origin on its embedded default (SQLite and generated secrets in ./jwtedge-data), runs
# the worker in local workerd (wrangler dev) in front of a small upstream, mints a session, and
# shows a verified request, a rotation and a refresh, printing each step; then shuts everything
# down. Idempotent: a second run reuses ./jwtedge-data (the same keys and credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=never
export WRANGLER_SEND_METRICS=false DO_NOT_TRACK=1 WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
say() { printf '\n== %s\n' "$*"; }

say "setting up (scripts/setup.sh wasm npm, pkg/, the origin binary, the worker's npm packages)"
bash scripts/setup.sh wasm npm
bash scripts/build-pkg.sh
cargo build --quiet --bin jwtedge-origin
ORIGIN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/jwtedge-origin"
lock_sum=$(sha256sum worker/package-lock.json | cut -d' ' -f1)
if [ "$(cat worker/node_modules/.jwtedge-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --prefix worker --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > worker/node_modules/.jwtedge-lock-sum
fi

RUN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/jwtedge-run"
mkdir -p "$RUN_DIR"
ORIGIN_LOG="$RUN_DIR/origin.log"

# The embedded default: no config file and no JWTEDGE_* variable (so none is passed on). Its
# address is 127.0.0.1:8080; if that port is taken, the one override is a free port.
unset_args=()
for v in $(compgen -e | grep '^JWTEDGE_' || true); do unset_args+=(-u "$v"); done
extra_env=()
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "127.0.0.1:8080 is in use: the origin takes a free port instead (JWTEDGE_LISTEN=127.0.0.1:0)"
  extra_env=(JWTEDGE_LISTEN=127.0.0.1:0)
fi

say "starting jwtedge-origin serve (data: ./jwtedge-data, log: $ORIGIN_LOG)"
env "${unset_args[@]}" "${extra_env[@]}" "$ORIGIN_BIN" serve > "$RUN_DIR/origin.out" 2> "$ORIGIN_LOG" &
ORIGIN_PID=$!
stop_origin() {
  if kill -0 "$ORIGIN_PID" 2>/dev/null; then
    kill -TERM "$ORIGIN_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$ORIGIN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ORIGIN_PID" 2>/dev/null || true
  fi
  wait "$ORIGIN_PID" 2>/dev/null || true
}
trap stop_origin EXIT

ORIGIN_URL=""
for _ in $(seq 1 100); do
  ORIGIN_URL=$(sed -n 's/^jwtedge-origin listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$RUN_DIR/origin.out")
  [ -n "$ORIGIN_URL" ] && break
  if ! kill -0 "$ORIGIN_PID" 2>/dev/null; then
    cat "$RUN_DIR/origin.out" "$ORIGIN_LOG" >&2
    echo "jwtedge-origin exited" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$ORIGIN_URL" ] || { cat "$ORIGIN_LOG" >&2; echo "jwtedge-origin did not start" >&2; exit 1; }
cat "$RUN_DIR/origin.out"

say "the walk-through"
rm -rf "$RUN_DIR/wrangler-state"
node worker/demo/main.mjs "$ORIGIN_URL" "$ROOT/jwtedge-data/credentials.toml" "$RUN_DIR/wrangler-state"

say "shutting down"
stop_origin
trap - EXIT
echo "origin stopped; its data stays in ./jwtedge-data (delete it to start from scratch)"
