#!/usr/bin/env bash
# All the benchmarks in one run, written to docs/PERFORMANCE.md:
#   Node and workerd, HS256, EdDSA, RS256 and ES256 (jwtedge against jose,
#   @tsndr/cloudflare-worker-jwt, fast-jwt, and the bare runtime call as the floor), the native
#   floor (criterion), size (the .wasm; a minimal Worker's bundle beside jose's, by wrangler) and
#   cold start (Node; fresh workerd isolates beside jose), the origin under load (wrk; SQLite and
#   PostgreSQL).
#   bash bench/run.sh            full run (~16 minutes on 2 cores), rewrites docs/PERFORMANCE.md
#   bash bench/run.sh --smoke    one short round of everything, report to target/bench-smoke/
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
SMOKE=""; OUT=docs/PERFORMANCE.md; RESULTS=target/bench-results
if [ "${1:-}" = "--smoke" ]; then SMOKE="--smoke"; OUT=target/bench-smoke/PERFORMANCE.md; RESULTS=target/bench-smoke; fi
mkdir -p "$RESULTS" "$(dirname "$OUT")"
export LOAD_START=$(cut -d" " -f1-3 /proc/loadavg 2>/dev/null || echo "?")
# The report compares HS256/EdDSA with the committed report's figures (none outside a git clone).
git show HEAD:docs/PERFORMANCE.md >"$RESULTS/previous.md" 2>/dev/null || rm -f "$RESULTS/previous.md"

bash scripts/setup.sh wasm postgres bench
[ -f pkg/jwtedge_bg.wasm ] && [ -z "${REBUILD:-}" ] || bash scripts/build-pkg.sh
npm ci --prefix bench --no-audit --no-fund --loglevel=error

echo "== native floor (criterion)"
# The smoke run only checks that the bench builds and runs: it drops the release profile's LTO
# and single codegen unit (a whole-crate LTO build takes minutes on 2 cores); figures from it mean
# nothing. The full run keeps the release profile, so its native floor is the real one.
if [ -n "$SMOKE" ]; then
  crit=(--warm-up-time 0.2 --measurement-time 0.5)
  benchenv=(CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16)
else
  crit=(--warm-up-time 2 --measurement-time 5)
  benchenv=()
fi
env "${benchenv[@]}" cargo bench --quiet --bench verify -- "${crit[@]}" >"$RESULTS/criterion.log" 2>&1 || { cat "$RESULTS/criterion.log"; exit 1; }
node -e '
  const fs = require("fs");
  const dir = (process.env.CARGO_TARGET_DIR || "target") + "/criterion/core_verify";
  const us = (alg) => JSON.parse(fs.readFileSync(`${dir}/${alg}/new/estimates.json`)).median.point_estimate / 1000;
  fs.writeFileSync(process.argv[1], JSON.stringify({ HS256: us("HS256"), EdDSA: us("EdDSA") }));
' "$RESULTS/native.json"

echo "== Node"
node bench/node.mjs $SMOKE --json "$RESULTS/node.json"
echo "== workerd"
node bench/workerd.mjs $SMOKE --json "$RESULTS/workerd.json"
echo "== size and cold start"
node bench/coldstart.mjs $SMOKE --json "$RESULTS/coldstart.json" | tee "$RESULTS/coldstart.md"
node bench/bundle-size.mjs "$RESULTS/bundles" $SMOKE --json "$RESULTS/bundles.json" | tee "$RESULTS/bundles.md"
node bench/coldstart-workerd.mjs "$RESULTS/bundles.json" $SMOKE --json "$RESULTS/coldstart-workerd.json" | tee "$RESULTS/coldstart-workerd.md"
echo "== origin under load"
bash bench/origin-load.sh $SMOKE --json "$RESULTS/origin.json" | tee "$RESULTS/origin.md"

node -e '
  const fs = require("fs");
  const { execSync } = require("child_process");
  const sh = (c) => { try { return execSync(c, { encoding: "utf8" }).trim(); } catch { return "?"; } };
  const v = (p) => JSON.parse(fs.readFileSync(`bench/node_modules/${p}/package.json`)).version;
  fs.writeFileSync(process.argv[1], JSON.stringify({
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    cpu: sh("lscpu | sed -n \"s/^Model name: *//p\" | head -1"),
    cores: sh("nproc"),
    os: sh(". /etc/os-release && echo $PRETTY_NAME"),
    load: `${process.env.LOAD_START} at the start of the run, ${sh("cut -d\" \" -f1-3 /proc/loadavg")} at the end`,
    versions: [`Node ${process.version}`, sh("rustc --version"), `jose ${v("jose")}`, `@tsndr/cloudflare-worker-jwt ${v("@tsndr/cloudflare-worker-jwt")}`, `fast-jwt ${v("fast-jwt")}`, `miniflare ${v("miniflare")}`, `wrangler ${v("wrangler")}`, sh("wrk --version 2>&1 | head -1 | cut -d\" \" -f1-2")].join(", "),
  }));
' "$RESULTS/meta.json"
[ -f bench/NOTES.md ] && cp bench/NOTES.md "$RESULTS/notes.md"
node bench/report.mjs "$RESULTS" "$OUT"
