// The same comparison inside real workerd (miniflare's API). Timing method: workerd does not
// advance Date.now()/performance.now() during pure compute, so each request runs N verifications
// of one contender and is timed from outside, minus the median of empty requests (N = 0); N is
// large enough that the request overhead is a small correction. Contenders are interleaved in
// rounds. `node bench/workerd.mjs [--smoke] [--json FILE]`
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ALGS, makeKeys, makeTokens, tamper } from "./tokens.mjs";
import { summarise, formatTable, median } from "./rounds.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
const ROUNDS = smoke ? 1 : 7;
const TARGET_MS = smoke ? 10 : 200;

const dir = mkdtempSync(join(tmpdir(), "jwtedge-bench-"));
await build({
  entryPoints: [join(here, "workerd-worker.mjs")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  outfile: join(dir, "worker.mjs"),
  external: ["*.wasm"], // the Workers entry imports "./jwtedge_bg.wasm": a CompiledWasm module
  logLevel: "error",
});
copyFileSync(join(here, "..", "pkg", "jwtedge_bg.wasm"), join(dir, "jwtedge_bg.wasm"));

const keys = await makeKeys();
const input = {};
for (const alg of ALGS) {
  const tokens = await makeTokens(keys[alg], 64);
  input[alg] = { jwk: keys[alg].jwk, tokens, tampered: tamper(tokens[0]) };
}

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false,
  modules: true,
  modulesRoot: dir,
  scriptPath: join(dir, "worker.mjs"),
  modulesRules: [
    { type: "ESModule", include: ["**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2026-04-20",
  bindings: { BENCH_INPUT: JSON.stringify(input) },
});
const base = (await mf.ready).href.replace(/\/$/, "");
const get = async (path) => {
  const res = await fetch(base + path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const timed = async (path) => {
  const start = performance.now();
  await get(path);
  return performance.now() - start;
};

const report = { runtime: `workerd (miniflare ${JSON.parse(readFileSync(join(here, "node_modules/miniflare/package.json"))).version})`, tables: [] };
const text = [];
try {
  for (const alg of ALGS) {
    const names = await get(`/list?alg=${alg}`);
    const list = names.map((name, i) => ({ name, i, samples: [], baseline: name.includes("bare") }));
    for (const c of list) {
      if (c.baseline) continue; // a primitive, not a verifier
      const { ok, forged } = await get(`/check?alg=${alg}&contender=${c.i}`);
      if (!ok || forged) throw new Error(`${c.name}: accepts valid=${ok} tampered=${forged}`);
    }
    const empty = [];
    for (let i = 0; i < 15; i++) empty.push(await timed(`/run?alg=${alg}&contender=0&iterations=0`));
    const overhead = median(empty);
    for (const c of list) {
      await timed(`/run?alg=${alg}&contender=${c.i}&iterations=200`); // warm-up
      const ms = (await timed(`/run?alg=${alg}&contender=${c.i}&iterations=1000`)) - overhead;
      c.iterations = Math.max(100, Math.round((TARGET_MS * 1000) / Math.max(ms, 0.05)));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of list) {
        const ms = await timed(`/run?alg=${alg}&contender=${c.i}&iterations=${c.iterations}`);
        c.samples.push(Math.max(ms - overhead, 0.001));
      }
    }
    const rows = summarise(list, "jwtedge verifyWithKeyset");
    const title = `${alg} in ${report.runtime} (${ROUNDS} rounds, request overhead ${overhead.toFixed(2)} ms subtracted)`;
    report.tables.push({ alg, title, rows });
    text.push(formatTable(title, rows));
  }
} finally {
  await Promise.race([mf.dispose(), new Promise((r) => setTimeout(r, 5000))]);
}
console.log(text.join("\n\n"));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
