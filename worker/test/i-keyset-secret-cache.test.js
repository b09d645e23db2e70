// i. Issue 8, finding 4: the colo cache never stores a keyset holding secret keys, nor anything
//    fetched with Authorization, whatever Cache-Control says. An HMAC origin behind a proxy that
//    relabels its private keyset "public, max-age=300": isolates of one colo (workers sharing
//    caches.default in one workerd) must not hand it to an isolate without the credential.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { startKeysetProxy } from "./helpers/keyset-proxy.js";

let origin, upstream, relabelling, injecting, edge, session;

before(async () => {
  origin = await startOrigin({ JWTEDGE_ALGORITHM: "HS256" });
  upstream = await startUpstream();
  const publicLabel = "public, max-age=300";
  relabelling = await startKeysetProxy(origin.keysetUrl, { relabel: publicLabel });
  // A proxy that adds the edge credential itself: the worker's fetch carries no Authorization,
  // yet the answer holds the secret key.
  injecting = await startKeysetProxy(origin.keysetUrl, {
    relabel: publicLabel,
    authorization: `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}`,
  });
  const base = { UPSTREAM_URL: upstream.url, ALGORITHMS: "HS256" };
  const credential = `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}`;
  edge = await startEdge({
    withcred: { ...base, KEYSET_URL: relabelling.url, KEYSET_AUTHORIZATION: credential },
    nocred: { ...base, KEYSET_URL: relabelling.url },
    injected1: { ...base, KEYSET_URL: injecting.url },
    injected2: { ...base, KEYSET_URL: injecting.url },
  });
  session = await origin.createSession("alice");
});

after(async () => {
  await edge?.dispose();
  await relabelling?.close();
  await injecting?.close();
  await upstream?.close();
  await origin?.cleanup();
});

const get = (name) => edge.fetchFrom(name, "/x", { headers: { authorization: `Bearer ${session.access_token}` } });

test("the proxy really relabels the secret keyset public", async () => {
  const res = await fetch(relabelling.url, { headers: { authorization: `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "public, max-age=300");
  assert.equal((await res.json()).keys[0].kty, "oct");
});

test("a keyset fetched with the credential is not stored: an isolate without it gets no keyset", async () => {
  const ok = await get("withcred");
  assert.equal(ok.status, 200);

  const before = upstream.requests.length;
  const refusedBefore = (await origin.keysetServed()).refused;
  const res = await get("nocred");
  assert.equal(res.status, 503, "no credential, no secret keyset");
  assert.deepEqual(await res.json(), { message: "keyset unavailable" });
  assert.equal(upstream.requests.length, before);
  const withcred = await edge.stats("withcred");
  assert.equal(withcred.keysetCache.stored, 0, "not stored");
  assert.ok(withcred.keysetCache.notStored >= 1);
  const nocred = await edge.stats("nocred");
  assert.equal(nocred.keysetCache.hits, 0, "nothing from the shared cache");
  assert.equal((await origin.keysetServed()).refused - refusedBefore, 1, "it asked the origin, which refused");
});

test("a keyset holding an oct key is not stored, even fetched without Authorization", async () => {
  assert.equal((await get("injected1")).status, 200);
  const first = await edge.stats("injected1");
  assert.equal(first.keysetCache.stored, 0);
  assert.ok(first.keysetCache.notStored >= 1);
  const servedBefore = injecting.requests.length;
  assert.equal((await get("injected2")).status, 200);
  const second = await edge.stats("injected2");
  assert.equal(second.keysetCache.hits, 0, "not served from the shared cache");
  assert.equal(injecting.requests.length - servedBefore, 1, "the second isolate fetched it itself");
});
