// Size and cold start: the .wasm raw and gzipped; in fresh Node processes, the time to compile
// and instantiate it (initSync) and the first HS256 and EdDSA verifications after that.
// `node bench/coldstart.mjs [--smoke] [--json FILE]`
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { makeKeys, makeTokens } from "./tokens.mjs";
import { median } from "./rounds.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
const RUNS = smoke ? 2 : 15;
const wasmPath = join(here, "..", "pkg", "jwtedge_bg.wasm");
const wasm = readFileSync(wasmPath);

const keys = await makeKeys();
const input = {};
for (const alg of ["HS256", "EdDSA"]) {
  input[alg] = { token: (await makeTokens(keys[alg], 1))[0], jwks: JSON.stringify({ keys: [keys[alg].jwk] }) };
}

// One fresh process per run: the module and its wasm are loaded for the first time there.
const child = `
  const { readFileSync } = await import("node:fs");
  const input = JSON.parse(process.argv[1]);
  const bytes = readFileSync(${JSON.stringify(wasmPath)});
  const t0 = performance.now();
  const m = await import(${JSON.stringify(join(here, "..", "pkg", "jwtedge.js"))});
  const t1 = performance.now();
  m.initSync({ module: bytes });
  const t2 = performance.now();
  const hs = m.verifyWithKeyset(input.HS256.token, input.HS256.jwks);
  const t3 = performance.now();
  const ed = m.verifyWithKeyset(input.EdDSA.token, input.EdDSA.jwks);
  const t4 = performance.now();
  if (hs.status !== "OK" || ed.status !== "OK") throw new Error("cold verify failed");
  console.log(JSON.stringify({ importMs: t1 - t0, instantiateMs: t2 - t1, firstHs256Ms: t3 - t2, firstEdDsaMs: t4 - t3 }));
`;
const runs = [];
for (let i = 0; i < RUNS; i++) {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", child, JSON.stringify(input)], { encoding: "utf8" });
  runs.push(JSON.parse(out));
}
const med = (k) => median(runs.map((r) => r[k]));
const result = {
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
  importMs: med("importMs"),
  instantiateMs: med("instantiateMs"),
  firstHs256Ms: med("firstHs256Ms"),
  firstEdDsaMs: med("firstEdDsaMs"),
  runs: RUNS,
};
const kib = (b) => (b / 1024).toFixed(1);
console.log(`#### Size and cold start (Node ${process.version}, median of ${RUNS} fresh processes)

| measure | value |
|---|---:|
| pkg/jwtedge_bg.wasm raw | ${kib(result.wasmBytes)} KiB |
| pkg/jwtedge_bg.wasm gzip -9 | ${kib(result.wasmGzipBytes)} KiB |
| import jwtedge.js (JS glue) | ${result.importMs.toFixed(2)} ms |
| initSync: compile + instantiate | ${result.instantiateMs.toFixed(2)} ms |
| first HS256 verify (keyset parsed) | ${result.firstHs256Ms.toFixed(2)} ms |
| first EdDSA verify (keyset parsed) | ${result.firstEdDsaMs.toFixed(2)} ms |
| instantiate + first verify (HS256) | ${(result.instantiateMs + result.firstHs256Ms).toFixed(2)} ms |`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
