// f. Forged tokens — signed by a key not in the keyset, alg "none", tampered claims, the public
//    key used as an HMAC secret — get 401 unauthorised and never reach the upstream.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { decode, hs256, signWithStrangerKey, tamper, unsigned } from "./helpers/jws.js";

let origin, upstream, edge, session;

before(async () => {
  origin = await startOrigin();
  upstream = await startUpstream();
  edge = await startEdge({ edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url } });
  session = await origin.createSession("alice");
  // Warm the keyset, and prove the genuine token passes, so each 401 below is the forgery's.
  const res = await fetch(`${edge.url}/data`, { headers: { authorization: `Bearer ${session.access_token}` } });
  assert.equal(res.status, 200);
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

function forgeries() {
  const { header, claims } = decode(session.access_token);
  const kid = kidOf(session.access_token);
  const jwks = fetch(origin.keysetUrl).then((r) => r.json());
  return [
    ["signed by a key not in the keyset, with a published kid", signWithStrangerKey(header, { ...claims, sub: "mallory" })],
    ['alg "none" with a published kid', unsigned({ alg: "none", kid, typ: "at+jwt" }, { ...claims, sub: "mallory" })],
    ['alg "none" without a signature part', unsigned({ alg: "none", typ: "JWT" }, claims).slice(0, -1)],
    ["tampered claims (sub changed)", tamper(session.access_token, { sub: "mallory" })],
    ["tampered claims (exp extended)", tamper(session.access_token, { exp: claims.exp + 86400 })],
    [
      "HS256 signed with the published Ed25519 public key (algorithm confusion)",
      jwks.then((k) => hs256({ ...header, alg: "HS256" }, { ...claims, sub: "mallory" }, k.keys.find((x) => x.kid === kid).x)),
    ],
    ["garbage", "not-a-jwt"],
  ];
}


test("every forged token is 401 unauthorised and never reaches the upstream", async () => {
  const before = upstream.requests.length;
  const cases = forgeries();
  for (const [name, tokenOrPromise] of cases) {
    const token = await tokenOrPromise;
    const res = await fetch(`${edge.url}/data`, {
      headers: { authorization: `Bearer ${token}`, "x-jwtedge-sub": "mallory" },
    });
    assert.equal(res.status, 401, name);
    assert.deepEqual(await res.json(), { message: "unauthorised" }, name);
  }
  assert.equal(upstream.requests.length, before, "no forged request reached the upstream");
  const again = await fetch(`${edge.url}/data`, { headers: { authorization: `Bearer ${session.access_token}` } });
  assert.equal(again.status, 200, "the genuine token still passes");
});
