// Cold start in workerd: the first request of a fresh isolate (compile the bundle's JavaScript
// and .wasm, run its top level, answer one request with one verification) for the minimal Worker
// of each verifier, as bundled by bench/bundle-size.mjs; HS256 and EdDSA; median over RUNS fresh
// isolates per contender, contenders interleaved. Each isolate is new (a Worker Loader with a new
// id; workerd compiles its modules then), so nothing is shared with an earlier sample but the
// workerd process. Two clocks: inside workerd around the loader call and the first answer
// (whole milliseconds: workerd's clock advances on I/O only and is coarse), and from Node around
// the whole HTTP request (adds the loopback hop). "no verifier" is the cost of an isolate at all;
// "jwtedge start-up only" and "jwtedge .wasm compile only" split jwtedge's cost into its parts.
// `node bench/coldstart-workerd.mjs BUNDLES_DIR [--smoke] [--json FILE]`
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { makeKeys, makeTokens, tamper, ISS, AUD } from "./tokens.mjs";
import { median } from "./rounds.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const bundles = JSON.parse(readFileSync(args[0], "utf8"));
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
const RUNS = smoke ? 2 : 21;
const COMPATIBILITY_DATE = "2026-04-20";
const ALGS = ["HS256", "EdDSA"];

// The bundles' files become the parent's blob bindings, handed to the loader per isolate.
const contenders = {};
const textBlobBindings = {};
const dataBlobBindings = {};
bundles.forEach((b, i) => {
  const modules = readdirSync(b.dir)
    .filter((f) => /\.(m?js|wasm)$/.test(f))
    .map((f, j) => {
      const binding = `C${i}_${j}`;
      const wasm = f.endsWith(".wasm");
      if (wasm) dataBlobBindings[binding] = new Uint8Array(readFileSync(join(b.dir, f)));
      else textBlobBindings[binding] = join(b.dir, f);
      return { name: f, binding, wasm };
    });
  const main = modules.find((m) => !m.wasm).name;
  // @tsndr has no EdDSA; jwtedge's parts verify nothing, so one algorithm is enough for them.
  contenders[b.name] = { main, modules, verifies: !b.part && b.name !== "no verifier", algs: b.name.includes("tsndr") || b.part ? ["HS256"] : ALGS };
});

const keys = await makeKeys();
const input = {};
for (const alg of ALGS) {
  const [token] = await makeTokens(keys[alg], 1);
  input[alg] = { token, tampered: tamper(token), jwks: JSON.stringify({ keys: [keys[alg].jwk] }) };
}

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false,
  modules: true,
  scriptPath: join(here, "coldstart-parent.mjs"),
  compatibilityDate: COMPATIBILITY_DATE,
  workerLoaders: { LOADER: {} },
  textBlobBindings,
  dataBlobBindings,
  bindings: { CONTENDERS: JSON.stringify(contenders), INPUT: JSON.stringify(input), ISSUER: ISS, AUDIENCE: AUD, COMPATIBILITY_DATE },
});
let fresh = 0;
const result = { runs: RUNS, rows: [] };
try {
  const base = (await mf.ready).href.replace(/\/$/, "");
  const call = async (name, alg, id, tampered = false) => {
    const start = performance.now();
    const res = await fetch(`${base}/?contender=${encodeURIComponent(name)}&alg=${alg}&id=${id}${tampered ? "&tampered=1" : ""}`);
    const out = await res.json();
    return { ...out, outsideMs: performance.now() - start };
  };
  // Every contender answers a valid token and refuses a tampered one (on a warm isolate).
  for (const [name, c] of Object.entries(contenders)) {
    for (const alg of c.algs) {
      const id = `check-${fresh++}`;
      const ok = await call(name, alg, id);
      const forged = await call(name, alg, id, true);
      if (ok.status !== 200 || (c.verifies && forged.status !== 401)) {
        throw new Error(`${name} ${alg}: valid → ${ok.status} ${ok.body}, tampered → ${forged.status}`);
      }
    }
  }
  const samples = {};
  for (let run = 0; run < RUNS; run++) {
    for (const alg of ALGS) {
      for (const [name, c] of Object.entries(contenders)) {
        if (!c.algs.includes(alg)) continue;
        const id = `cold-${fresh++}`;
        const cold = await call(name, alg, id);
        const warm = await call(name, alg, id); // the same isolate's second request
        if (cold.status !== 200 || warm.status !== 200) throw new Error(`${name} ${alg}: ${cold.status} ${cold.body}`);
        const s = (samples[`${alg}/${name}`] ??= { alg, name, inside: [], outside: [], warm: [] });
        s.inside.push(cold.ms);
        s.outside.push(cold.outsideMs);
        s.warm.push(warm.ms);
      }
    }
  }
  for (const s of Object.values(samples)) {
    result.rows.push({
      alg: s.alg,
      name: s.name,
      insideMs: median(s.inside),
      insideMin: Math.min(...s.inside),
      insideMax: Math.max(...s.inside),
      outsideMs: median(s.outside),
      warmMs: median(s.warm),
    });
  }
} finally {
  await Promise.race([mf.dispose(), new Promise((r) => setTimeout(r, 5000))]);
}

const lines = [`#### Cold start in workerd: first request of a fresh isolate (median of ${RUNS} isolates per row)`, ""];
lines.push("| alg | Worker | first request, inside workerd | min – max | added to an empty Worker's | × jose's | from Node (HTTP) | its second request |");
lines.push("|---|---|---:|---:|---:|---:|---:|---:|");
for (const alg of ALGS) {
  const empty = result.rows.find((r) => r.alg === alg && r.name === "no verifier");
  const jose = result.rows.find((r) => r.alg === alg && r.name === "jose");
  for (const r of result.rows.filter((r) => r.alg === alg)) {
    r.addedMs = r.insideMs - empty.insideMs;
    r.vsJose = r.insideMs / jose.insideMs;
    lines.push(`| ${alg} | ${r.name} | ${r.insideMs.toFixed(1)} ms | ${r.insideMin.toFixed(0)} – ${r.insideMax.toFixed(0)} | ${r.addedMs.toFixed(1)} ms | ${r.vsJose.toFixed(2)} | ${r.outsideMs.toFixed(1)} ms | ${r.warmMs.toFixed(1)} ms |`);
  }
}
console.log(lines.join("\n"));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
