// Size of a minimal Worker's whole upload, per verifier: each bench/minimal/*.mjs bundled by
// wrangler (`wrangler deploy --dry-run --outdir`, the bundle a deploy would upload), every file of
// it counted (the JavaScript and the .wasm module), raw and gzip -9, with wrangler's default
// settings and with --minify (the smoke run skips the minified ones). The bundles are left in
// OUT_DIR for bench/coldstart-workerd.mjs. `node bench/bundle-size.mjs OUT_DIR [--smoke] [--json FILE]`
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outDir = resolve(args[0] ?? "");
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
if (!args[0] || args[0].startsWith("--")) throw new Error("usage: node bench/bundle-size.mjs OUT_DIR [--smoke] [--json FILE]");
const wrangler = join(here, "node_modules", ".bin", "wrangler");

const WORKERS = [
  { name: "jwtedge", file: "jwtedge.mjs" },
  { name: "jose", file: "jose.mjs" },
  { name: "@tsndr/cloudflare-worker-jwt", file: "tsndr.mjs" },
  { name: "no verifier", file: "empty.mjs" },
  // Parts of jwtedge's cold start (not in the size table): start-up without a verification, and
  // the .wasm compiled alone.
  { name: "jwtedge start-up only", file: "jwtedge-startup.mjs", part: true },
  { name: "jwtedge .wasm compile only", file: "jwtedge-compile.mjs", part: true },
];

const quiet = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  DO_NOT_TRACK: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG: "error",
};

/// Bundles one Worker and answers its files: [{ path, bytes, gzip }].
function bundle(worker, minify, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "..", `${worker.file}${minify ? ".min" : ""}.wrangler.json`);
  writeFileSync(config, JSON.stringify({
    name: "minimal",
    main: join(here, "minimal", worker.file),
    compatibility_date: "2026-04-20",
    minify,
  }));
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", dir, "--config", config], { env: quiet, stdio: ["ignore", "ignore", "inherit"], cwd: here });
  return readdirSync(dir)
    .filter((f) => /\.(m?js|wasm)$/.test(f))
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      return { path: f, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
}

const sum = (files, key) => files.reduce((n, f) => n + f[key], 0);
const results = [];
for (const worker of WORKERS) {
  const plain = bundle(worker, false, join(outDir, worker.file.replace(/\.mjs$/, "")));
  const minified = smoke || worker.part ? null : bundle(worker, true, join(outDir, `${worker.file.replace(/\.mjs$/, "")}.min`));
  results.push({
    name: worker.name,
    source: `bench/minimal/${worker.file}`,
    part: !!worker.part,
    dir: join(outDir, worker.file.replace(/\.mjs$/, "")),
    files: plain,
    bytes: sum(plain, "bytes"),
    gzipBytes: sum(plain, "gzip"),
    wasmGzipBytes: sum(plain.filter((f) => f.path.endsWith(".wasm")), "gzip"),
    minifiedBytes: minified && sum(minified, "bytes"),
    minifiedGzipBytes: minified && sum(minified, "gzip"),
  });
}

const kib = (b) => (b / 1024).toFixed(1);
const jose = results.find((r) => r.name === "jose");
const lines = [
  `#### A minimal Worker's whole bundle (wrangler deploy --dry-run; every file of it, gzip -9)`,
  "",
  "| Worker | files | raw | gzip | of which .wasm gzip | gzip, --minify | × jose's gzip |",
  "|---|---|---:|---:|---:|---:|---:|",
  ...results.filter((r) => !r.part).map((r) => `| ${r.name} (${r.source}) | ${r.files.map((f) => f.path.replace(/^[0-9a-f]{40}-/, "")).join(", ")} | ${kib(r.bytes)} KiB | ${kib(r.gzipBytes)} KiB | ${kib(r.wasmGzipBytes)} KiB | ${r.minifiedGzipBytes ? `${kib(r.minifiedGzipBytes)} KiB` : "–"} | ${(r.gzipBytes / jose.gzipBytes).toFixed(1)} |`),
];
console.log(lines.join("\n"));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
