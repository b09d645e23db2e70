// Item 2: the keyset is shared across isolates of a colo through the Cache API. Three workers in
// one workerd share caches.default, as isolates of one colo do; each keeps its own Verifier.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { waitFor } from "./helpers/wait.js";

const MAX_AGE_S = 2;
let origin, upstream, edge, token;

before(async () => {
  origin = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: `${MAX_AGE_S}s` });
  upstream = await startUpstream();
  const bindings = { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, MIN_FRESH_SECONDS: "1", COOLDOWN_SECONDS: "0.5" };
  edge = await startEdge({ a: bindings, b: bindings, c: bindings, d: bindings });
  token = (await origin.createSession("alice")).access_token;
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

const get = (name) => edge.fetchFrom(name, "/x", { headers: { authorization: `Bearer ${token}` } });

test("a new isolate verifies from the colo cache without calling the origin; an expired copy is not served", async () => {
  const start = await origin.keysetServed();
  const first = await get("a");
  assert.equal(first.status, 200);
  const storedAt = Date.now();
  assert.equal((await origin.keysetServed()).total - start.total, 1, "isolate a fetched the keyset");

  const second = await get("b");
  assert.equal(second.status, 200);
  assert.ok(Date.now() - storedAt < MAX_AGE_S * 1000, "still inside max-age (test too slow otherwise)");
  assert.equal((await origin.keysetServed()).total - start.total, 1, "isolate b did not call the origin");
  const b = await edge.stats("b");
  assert.equal(b.keysetCache.hits, 1);
  assert.equal(b.keysetCache.originFetches, 0);
  assert.equal(b.verifier.keys, 2);

  // Past max-age the shared copy is dead: a third new isolate must go to the origin.
  await waitFor(() => Date.now() - storedAt > MAX_AGE_S * 1000 + 100, { what: "max-age to pass" });
  const third = await get("c");
  assert.equal(third.status, 200);
  assert.equal((await origin.keysetServed()).total - start.total, 2, "isolate c called the origin");
  const c = await edge.stats("c");
  assert.equal(c.keysetCache.hits, 0);
  assert.equal(c.keysetCache.originFetches, 1);
});

test("an isolate revalidating the copy it already holds asks the origin (304), which renews the shared copy", async () => {
  // a's copy has expired by now (the previous test waited past max-age); make sure of it.
  const start = await origin.keysetServed();
  await waitFor(async () => {
    const res = await get("a");
    assert.equal(res.status, 200);
    return (await origin.keysetServed()).notModified > start.notModified;
  }, { timeoutMs: 8_000, intervalMs: 200, what: "a revalidation with 304" });
  const a = await edge.stats("a");
  assert.ok(a.verifier.notModified >= 1);
  assert.ok(a.keysetCache.sameCopy + a.keysetCache.misses >= 1);
  assert.ok(a.keysetCache.renewed >= 1, "the 304 renewed the shared copy");
});

test("a kid the shared copy predates is found by the unknown-kid refetch, which bypasses the colo cache", async () => {
  // d loads the keyset (from the origin or the shared copy), then the origin rotates twice: the
  // key that now signs was created after that copy, so neither d nor the colo cache knows it.
  assert.equal((await get("d")).status, 200);
  const loadedAt = Date.now();
  await origin.rotate();
  await origin.rotate();
  const fresh = await origin.createSession("bob");
  await waitFor(() => Date.now() - loadedAt > 600, { what: "the cooldown to pass" });
  const before = await edge.stats("d");
  const res = await edge.fetchFrom("d", "/x", { headers: { authorization: `Bearer ${fresh.access_token}` } });
  assert.ok(Date.now() - loadedAt < MAX_AGE_S * 1000, "the copies were still fresh (test too slow otherwise)");
  assert.equal(res.status, 200);
  const after = await edge.stats("d");
  assert.equal(after.keysetCache.sameCopy - before.keysetCache.sameCopy + after.keysetCache.misses - before.keysetCache.misses, 1);
  assert.equal(after.keysetCache.originFetches - before.keysetCache.originFetches, 1, "went to the origin");
  assert.equal(after.keysetCache.hits, before.keysetCache.hits, "not answered by the stale shared copy");
});
