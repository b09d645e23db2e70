// e. HMAC mode: the worker reads the secret keyset with its edge credential; without it (or with
//    a wrong one) the origin refuses and the worker answers 503, never 200. The secret keyset is
//    never put in the shared Cache API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";

let origin, upstream, edge, session;

before(async () => {
  origin = await startOrigin({ JWTEDGE_ALGORITHM: "HS256" });
  upstream = await startUpstream();
  const base = { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, ALGORITHMS: "HS256" };
  const credential = `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}`;
  edge = await startEdge({
    withcred: { ...base, KEYSET_AUTHORIZATION: credential },
    nocred: base,
    wrongcred: { ...base, KEYSET_AUTHORIZATION: "Bearer not-the-edge-credential" },
    withcred2: { ...base, KEYSET_AUTHORIZATION: credential },
  });
  session = await origin.createSession("alice");
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

const get = (name) => edge.fetchFrom(name, "/x", { headers: { authorization: `Bearer ${session.access_token}` } });

test("the origin serves the HMAC keyset only with the edge credential, marked private", async () => {
  const anonymous = await fetch(origin.keysetUrl);
  assert.equal(anonymous.status, 401);
  const authorised = await fetch(origin.keysetUrl, {
    headers: { authorization: `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}` },
  });
  assert.equal(authorised.status, 200);
  assert.match(authorised.headers.get("cache-control"), /private/);
  assert.match(authorised.headers.get("cache-control"), /no-store/);
  assert.equal((await authorised.json()).keys[0].kty, "oct");
});

test("with the credential the worker verifies HS256 tokens; without it, 503 and nothing reaches the upstream", async () => {
  const ok = await get("withcred");
  assert.equal(ok.status, 200);
  assert.equal(upstream.requests.at(-1).headers["x-jwtedge-sub"], "alice");

  const before = upstream.requests.length;
  const served = await origin.keysetServed();
  for (const name of ["nocred", "wrongcred"]) {
    const res = await get(name);
    assert.equal(res.status, 503, name);
    assert.deepEqual(await res.json(), { message: "keyset unavailable" });
  }
  assert.equal(upstream.requests.length, before, "refused requests never reach the upstream");
  const after = await origin.keysetServed();
  assert.equal(after.refused - served.refused, 2, "the origin refused both (not served from the shared cache)");
});

test("the secret keyset never lands in the shared cache: each isolate asks the origin itself", async () => {
  const served = await origin.keysetServed();
  const res = await get("withcred2");
  assert.equal(res.status, 200);
  assert.equal((await origin.keysetServed()).ok - served.ok, 1, "a cold isolate fetched from the origin");
  for (const name of ["withcred", "withcred2"]) {
    const { keysetCache } = await edge.stats(name);
    assert.equal(keysetCache.stored, 0, name);
    assert.equal(keysetCache.hits, 0, name);
    assert.ok(keysetCache.notStored >= 1, name);
  }
});
