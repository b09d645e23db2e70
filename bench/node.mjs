// The Node benchmark: every contender verifies the same realistic tokens, interleaved in rounds,
// in one process. `node bench/node.mjs [--smoke] [--json FILE]`
import { createRequire } from "node:module";
import * as nodeCrypto from "node:crypto";
import http from "node:http";
import { writeFileSync } from "node:fs";
import * as jwtedge from "jwtedge";
import { ALGS, makeKeys, makeTokens, tamper } from "./tokens.mjs";
import { contenders } from "./contenders.mjs";
import { checkCorrectness, timeBatch, summarise, formatTable } from "./rounds.mjs";

const require = createRequire(import.meta.url);
const fastJwt = require("fast-jwt");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : null;
const ROUNDS = smoke ? 1 : 7;
const TARGET_MS = smoke ? 5 : 150; // per contender per round
const clock = () => performance.now();

const keys = await makeKeys();
const server = http.createServer((req, res) => {
  const alg = ALGS.find((a) => req.url === `/${a}`) ?? "HS256";
  res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
  res.end(JSON.stringify({ keys: [keys[alg].jwk] }));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;

const report = { runtime: `Node ${process.version}`, tables: [] };
const text = [];
for (const alg of ALGS) {
  const key = keys[alg];
  const tokens = await makeTokens(key, 64);
  const list = await contenders(jwtedge, key, { fastJwt, nodeCrypto, keysetUrl: `${base}/${alg}` });
  for (const c of list) if (!c.baseline) await checkCorrectness(c, tokens[0], tamper(tokens[0]));
  // Calibrate: iterations so each batch takes about TARGET_MS.
  for (const c of list) {
    await timeBatch(c, tokens, 200, clock); // warm-up (JIT, key import, keyset fetch)
    const ms = await timeBatch(c, tokens, 500, clock);
    c.iterations = Math.max(50, Math.round((TARGET_MS * 500) / Math.max(ms, 0.01)));
    c.samples = [];
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of list) c.samples.push(await timeBatch(c, tokens, c.iterations, clock));
  }
  const rows = summarise(list, "jwtedge verifyWithKeyset");
  const title = `${alg} in ${report.runtime} (${tokens[0].length}-byte tokens, ${ROUNDS} rounds)`;
  report.tables.push({ alg, title, rows });
  text.push(formatTable(title, rows));
}
server.close();
console.log(text.join("\n\n"));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
