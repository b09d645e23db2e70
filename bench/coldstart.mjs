// Size and cold start in Node: the .wasm raw and gzipped; in fresh Node processes, the time to
// compile and instantiate it (initSync on the bytes read from disk) and the first HS256 and EdDSA
// verifications after that; and, as a user sees it, importing the package's Node entry (which
// instantiates the .wasm itself) plus the first verification, beside importing jose plus its first
// verification (importJWK + jwtVerify). Each process first imports a trivial module, so Node's
// ESM loader start-up (the same for every package) is not counted.
// `node bench/coldstart.mjs [--smoke] [--json FILE]`
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { makeKeys, makeTokens, ISS, AUD } from "./tokens.mjs";
import { median } from "./rounds.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
const RUNS = smoke ? 2 : 15;
const wasmPath = join(here, "..", "pkg", "jwtedge_bg.wasm");
const wasm = readFileSync(wasmPath);

const keys = await makeKeys();
const input = { iss: ISS, aud: AUD };
for (const alg of ["HS256", "EdDSA"]) {
  input[alg] = { token: (await makeTokens(keys[alg], 1))[0], jwk: keys[alg].jwk, jwks: JSON.stringify({ keys: [keys[alg].jwk] }) };
}

// One fresh process per run and kind: the module and its wasm are loaded for the first time there.
const prologue = `
  await import("data:text/javascript,export default 1");
  const input = JSON.parse(process.argv[1]);
  const expect = { issuer: input.iss, audience: input.aud };
  const ok = (o) => { if (o.status !== "OK") throw new Error("cold verify failed: " + o.status); };
`;
const children = {
  // The web build by hand: the steps the target counts.
  steps: `
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(${JSON.stringify(wasmPath)});
    const t0 = performance.now();
    const m = await import(${JSON.stringify(join(here, "..", "pkg", "jwtedge.js"))});
    const t1 = performance.now();
    m.initSync({ module: bytes });
    const t2 = performance.now();
    ok(m.verifyWithKeyset(input.HS256.token, input.HS256.jwks, expect));
    const t3 = performance.now();
    ok(m.verifyWithKeyset(input.EdDSA.token, input.EdDSA.jwks, expect));
    const t4 = performance.now();
    console.log(JSON.stringify({ importMs: t1 - t0, instantiateMs: t2 - t1, firstHs256Ms: t3 - t2, firstEdDsaMs: t4 - t3 }));
  `,
  // What a user writes: import { verifyWithKeyset } from "jwtedge" (Node entry, no init).
  entry: `
    const t0 = performance.now();
    const m = await import(${JSON.stringify(import.meta.resolve("jwtedge"))});
    ok(await m.verifyWithKeyset(input.HS256.token, input.HS256.jwks, expect));
    const t1 = performance.now();
    console.log(JSON.stringify({ entryFirstHs256Ms: t1 - t0 }));
  `,
  jose: `
    const t0 = performance.now();
    const jose = await import(${JSON.stringify(import.meta.resolve("jose"))});
    const key = await jose.importJWK(input.HS256.jwk, "HS256");
    await jose.jwtVerify(input.HS256.token, key, expect);
    const t1 = performance.now();
    console.log(JSON.stringify({ joseFirstHs256Ms: t1 - t0 }));
  `,
};
const runs = [];
for (let i = 0; i < RUNS; i++) {
  const run = {};
  for (const code of Object.values(children)) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", prologue + code, JSON.stringify(input)], { encoding: "utf8" });
    Object.assign(run, JSON.parse(out));
  }
  runs.push(run);
}
const med = (k) => median(runs.map((r) => r[k]));
const result = {
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
  importMs: med("importMs"),
  instantiateMs: med("instantiateMs"),
  firstHs256Ms: med("firstHs256Ms"),
  firstEdDsaMs: med("firstEdDsaMs"),
  entryFirstHs256Ms: med("entryFirstHs256Ms"),
  joseFirstHs256Ms: med("joseFirstHs256Ms"),
  runs: RUNS,
};
const kib = (b) => (b / 1024).toFixed(1);
console.log(`#### Size and cold start (Node ${process.version}, median of ${RUNS} fresh processes per row)

| measure | value |
|---|---:|
| pkg/jwtedge_bg.wasm raw | ${kib(result.wasmBytes)} KiB |
| pkg/jwtedge_bg.wasm gzip -9 | ${kib(result.wasmGzipBytes)} KiB |
| import jwtedge.js (JS glue) | ${result.importMs.toFixed(2)} ms |
| initSync: compile + instantiate | ${result.instantiateMs.toFixed(2)} ms |
| first HS256 verify (keyset parsed) | ${result.firstHs256Ms.toFixed(2)} ms |
| first EdDSA verify (keyset parsed) | ${result.firstEdDsaMs.toFixed(2)} ms |
| instantiate + first verify (HS256) | ${(result.instantiateMs + result.firstHs256Ms).toFixed(2)} ms |
| import the Node entry \`jwtedge\` + first HS256 verify | ${result.entryFirstHs256Ms.toFixed(2)} ms |
| import \`jose\` + importJWK + first HS256 jwtVerify | ${result.joseFirstHs256Ms.toFixed(2)} ms |`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
