// The workerd side of the benchmark: runs `iterations` verifications of one contender per
// request. workerd freezes Date.now()/performance.now() during pure compute, so the caller times
// each request from outside and subtracts an empty request (see workerd.mjs).
// jwtedge through its Workers entry, as a Worker imports it (it instantiates the .wasm itself).
import * as jwtedge from "jwtedge/workers";
import { contenders } from "./contenders.mjs";

let prepared = null;

async function prepare(env) {
  const input = JSON.parse(env.BENCH_INPUT);
  const out = {};
  for (const [alg, { jwk, tokens, tampered }] of Object.entries(input)) {
    const key = { alg, jwk, secret: alg === "HS256" ? base64url(jwk.k) : null };
    out[alg] = { tokens, tampered, list: await contenders(jwtedge, key, { keysetUrl: `data:application/json,${encodeURIComponent(JSON.stringify({ keys: [jwk] }))}` }) };
  }
  return out;
}

function base64url(s) {
  return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

export default {
  async fetch(request, env) {
    prepared ??= await prepare(env);
    const url = new URL(request.url);
    const alg = url.searchParams.get("alg");
    const { list, tokens, tampered } = prepared[alg];
    if (url.pathname === "/list") return Response.json(list.map((c) => c.name));
    const c = list[Number(url.searchParams.get("contender"))];
    if (url.pathname === "/check") {
      const ok = await c.verify(tokens[0]);
      const forged = await c.verify(tampered);
      return Response.json({ ok: !!ok, forged: !!forged });
    }
    const iterations = Number(url.searchParams.get("iterations"));
    let accepted = 0;
    for (let i = 0; i < iterations; i++) if (await c.verify(tokens[i % tokens.length])) accepted++;
    return Response.json({ accepted });
  },
};
