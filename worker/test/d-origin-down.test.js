// d. Origin down: valid tokens keep passing from the cached keyset (stale-if-error); an unknown
//    kid gives 503. Also: a new isolate still verifies from the colo cache while its copy is fresh,
//    and a new isolate with nothing usable answers 503.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { decode, signWithStrangerKey } from "./helpers/jws.js";
import { sleep, waitFor } from "./helpers/wait.js";
import { startKeysetProxy } from "./helpers/keyset-proxy.js";

const MAX_AGE_S = 3;
let origin, upstream, edge, token;

before(async () => {
  origin = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: `${MAX_AGE_S}s` });
  upstream = await startUpstream();
  const bindings = {
    KEYSET_URL: origin.keysetUrl,
    UPSTREAM_URL: upstream.url,
    MIN_FRESH_SECONDS: "1",
    COOLDOWN_SECONDS: "1",
    FETCH_TIMEOUT_SECONDS: "1",
  };
  edge = await startEdge({ a: bindings, b: bindings, c: bindings });
  token = (await origin.createSession("alice")).access_token;
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

const get = (name, t = token) => edge.fetchFrom(name, "/x", { headers: { authorization: `Bearer ${t}` } });

test("the origin goes down: cached keysets keep valid tokens passing; unknown kids and cold isolates get 503", async (t) => {
  assert.equal((await get("a")).status, 200);
  const fetchedAt = Date.now();
  await origin.stop();

  // A new isolate, origin down, shared copy still fresh: verifies from the colo cache.
  const b = await get("b");
  assert.ok(Date.now() - fetchedAt < MAX_AGE_S * 1000, "inside max-age (test too slow otherwise)");
  assert.equal(b.status, 200);

  // Keep going well past max-age: every valid request passes on the stale keyset.
  const statuses = [];
  const until = fetchedAt + MAX_AGE_S * 1000 + 2500;
  while (Date.now() < until && statuses.length < 200) {
    statuses.push((await get("a")).status);
    await sleep(50);
  }
  t.diagnostic(`${statuses.length} requests on the stale keyset`);
  assert.ok(statuses.length >= 20);
  assert.deepEqual([...new Set(statuses)], [200]);
  const a = await edge.stats("a");
  assert.ok(a.verifier.failures >= 1, "the edge did try the origin, and failed");

  // An unknown kid cannot be looked up: 503, not 401 (a refresh would hit the same dead origin).
  const { header, claims } = decode(token);
  const unknown = signWithStrangerKey({ ...header, kid: "not-a-published-kid" }, claims);
  const res = await waitFor(async () => {
    const r = await get("a", unknown);
    return r.status === 503 ? r : false;
  }, { timeoutMs: 5_000, intervalMs: 200, what: "503 for an unknown kid" });
  assert.deepEqual(await res.json(), { message: "keyset unavailable" });

  // A new isolate once the shared copy has expired: nothing usable → 503.
  const c = await get("c");
  assert.equal(c.status, 503);
});

test("an origin that hangs: a cold isolate answers 503 within the fetch timeout, never hangs", async (t) => {
  const live = await startOrigin();
  const proxy = await startKeysetProxy(live.keysetUrl);
  const cold = await startEdge({
    edge: { KEYSET_URL: proxy.url, UPSTREAM_URL: upstream.url, FETCH_TIMEOUT_SECONDS: "1" },
  });
  try {
    const liveToken = (await live.createSession("dave")).access_token;
    proxy.hold(100, Infinity); // every keyset request hangs until its client gives up
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${cold.url}/x`, { headers: { authorization: `Bearer ${liveToken}` }, signal: AbortSignal.timeout(15_000) }).then(
          (r) => ({ status: r.status, ms: Date.now() - started }),
        ),
      ),
    );
    t.diagnostic(`answers: ${results.map((r) => `${r.status}/${r.ms}ms`).join(" ")}; keyset requests: ${proxy.requests.length}`);
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(503));
    for (const r of results) assert.ok(r.ms < 1000 + 1500, `answered in ${r.ms} ms`);
    assert.equal(proxy.requests.length, 1, "one shared attempt; the cooldown holds back the rest");
    await waitFor(() => proxy.requests[0].clientClosed, { timeoutMs: 3_000, what: "the timed-out fetch to be closed" });
    assert.equal(upstream.requests.filter((r) => r.headers["x-jwtedge-sub"] === "dave").length, 0);
  } finally {
    proxy.releaseAll();
    await cold.dispose();
    await proxy.close();
    await live.cleanup();
  }
});
