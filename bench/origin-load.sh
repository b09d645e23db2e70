#!/usr/bin/env bash
# The origin under load on loopback, with wrk (Debian's package): keyset 200 and 304, session
# create, refresh; req/s and p50/p99 latency; SQLite and PostgreSQL (a throwaway server started by
# scripts/pg.sh, fsync off). Prints a markdown table; `--json FILE` also writes the numbers.
#   bench/origin-load.sh [--smoke] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SMOKE=0; JSON=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --json) JSON=$2; shift ;;
  esac
  shift
done
DURATION=10s; THREADS=2; CONNS=32; SEEDS=256
if [ "$SMOKE" = 1 ]; then DURATION=1s; CONNS=8; SEEDS=64; fi

# The smoke run (part of the test command) takes the debug binary the tests already built: it
# checks that the benchmark works, not how fast the origin is.
PROFILE=release; [ "$SMOKE" = 1 ] && PROFILE=debug
if [ "$PROFILE" = release ]; then cargo build --quiet --release --bin jwtedge-origin; else cargo build --quiet --bin jwtedge-origin; fi
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/jwtedge-origin
WORK=$(mktemp -d /tmp/jwtedge-load.XXXXXX)
PIDS=(); PG_DIR=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "$PG_DIR" ] && "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export JWTEDGE_API_KEY=bench-api-key-0123456789 JWTEDGE_ADMIN_TOKEN=bench-admin-token-0123456789
export JWTEDGE_LOG=warn JWTEDGE_ROTATION_INTERVAL=off

start_origin() { # $1 name, $2 database url (empty: SQLite in the data dir)
  local dir=$WORK/$1
  mkdir -p "$dir"; : >"$dir/out"
  JWTEDGE_LISTEN=127.0.0.1:0 JWTEDGE_DATA_DIR=$dir JWTEDGE_DATABASE_URL=$2 \
    JWTEDGE_MASTER_KEY=$(head -c 32 /dev/urandom | base64) "$BIN" serve >"$dir/out" 2>"$dir/err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/out" | head -1)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  cat "$dir/err" >&2; echo "origin did not start" >&2; exit 1
}

# wrk output → "rps p50 p99 non2xx" (latencies in ms)
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    END { printf "%s %.3f %.3f %d\n", rps, p50, p99, bad + 0 }'
}

seed_sessions() { # writes $SEEDS refresh tokens, one per line
  node -e '
    const [url, key, n, out] = process.argv.slice(1);
    const fs = require("fs");
    (async () => {
      const tokens = [];
      for (let i = 0; i < Number(n); i += 32) {
        const batch = await Promise.all(Array.from({ length: Math.min(32, n - i) }, async (_, j) => {
          const res = await fetch(`${url}/sessions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ sub: `load-${i + j}` }) });
          if (res.status !== 201) throw new Error(`seed: ${res.status}`);
          return (await res.json()).refresh_token;
        }));
        tokens.push(...batch);
      }
      fs.writeFileSync(out, tokens.join("\n") + "\n");
    })().catch((e) => { console.error(e); process.exit(1); });
  ' "$1" "$JWTEDGE_API_KEY" "$SEEDS" "$2"
}

ROWS=()
run_case() { # $1 backend, $2 case, then wrk args
  local backend=$1 name=$2; shift 2
  local result
  result=$(wrk --latency -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" | parse_wrk)
  ROWS+=("$backend|$name|$result")
}

bench_backend() { # $1 backend name, $2 database url
  start_origin "$1" "$2"
  local jwks=$URL/.well-known/jwks.json etag
  etag=$(curl -sfI "$jwks" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
  curl -sf -o /dev/null -H "If-None-Match: $etag" -w '%{http_code}' "$jwks" | grep -q 304
  run_case "$1" "keyset 200" "$jwks"
  run_case "$1" "keyset 304" -H "If-None-Match: $etag" "$jwks"
  BENCH_AUTH=$JWTEDGE_API_KEY BENCH_BODY='{"sub":"load-user","claims":{"plan":"pro"}}' \
    run_case "$1" "session create" -s bench/wrk/post-json.lua "$URL/sessions"
  seed_sessions "$URL" "$WORK/$1/seeds"
  BENCH_SEEDS=$WORK/$1/seeds BENCH_THREADS=$THREADS run_case "$1" "refresh" -s bench/wrk/refresh.lua "$URL/sessions/refresh"
}

bench_backend sqlite ""
eval "$("$ROOT/scripts/pg.sh" start)"
PG_DIR=$JWTEDGE_TEST_PG_DIR
bench_backend postgres "$JWTEDGE_TEST_DATABASE_URL"

echo "#### Origin on loopback ($PROFILE build; wrk -t$THREADS -c$CONNS -d$DURATION; origin and wrk share the $(nproc) cores)"
echo
echo "| backend | request | req/s | p50 ms | p99 ms | non-2xx/3xx |"
echo "|---|---|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r backend name result <<<"$row"
  read -r rps p50 p99 bad <<<"$result"
  printf '| %s | %s | %.0f | %s | %s | %s |\n' "$backend" "$name" "$rps" "$p50" "$p99" "$bad"
done
if [ -n "$JSON" ]; then
  printf '%s\n' "${ROWS[@]}" | awk -F'|' 'BEGIN { printf "[" } { split($3, r, " "); if (NR > 1) printf ","; printf "{\"backend\":\"%s\",\"request\":\"%s\",\"rps\":%s,\"p50\":%s,\"p99\":%s,\"bad\":%s}", $1, $2, r[1], r[2], r[3], r[4] } END { print "]" }' >"$JSON"
fi
