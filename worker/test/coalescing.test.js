// Coalescing on Workers (SPEC §5, issue item 3), in workerd:
// - concurrent requests on a cold isolate make exactly one keyset request;
// - when the request that started the keyset fetch is cancelled by its client, the other requests
//   waiting for that fetch still finish, within the fetch timeout (they take over with their own
//   fetch instead of hanging on a promise that belongs to a dead request).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import { WORKER_DIR, startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { startKeysetProxy } from "./helpers/keyset-proxy.js";
import { sleep, waitFor } from "./helpers/wait.js";

const FETCH_TIMEOUT_S = 1.5;
let origin, upstream, proxy, token;

before(async () => {
  origin = await startOrigin();
  upstream = await startUpstream();
  proxy = await startKeysetProxy(origin.keysetUrl);
  token = (await origin.createSession("alice")).access_token;
});

after(async () => {
  await proxy?.close();
  await upstream?.close();
  await origin?.cleanup();
});

const coldEdge = () =>
  startEdge({
    edge: {
      KEYSET_URL: proxy.url,
      UPSTREAM_URL: upstream.url,
      FETCH_TIMEOUT_SECONDS: String(FETCH_TIMEOUT_S),
    },
  });

function get(url, signal) {
  const started = Date.now();
  return fetch(url, { headers: { authorization: `Bearer ${token}` }, signal }).then(
    async (res) => ({ status: res.status, body: await res.text(), ms: Date.now() - started }),
    (error) => ({ status: 0, error: String(error), ms: Date.now() - started }),
  );
}

test("50 concurrent requests on a cold isolate share one keyset request", async () => {
  const edge = await coldEdge();
  try {
    const first = proxy.requests.length;
    proxy.hold(1, 400); // keep the fetch open long enough for every request to join it
    const results = await Promise.all(Array.from({ length: 50 }, () => get(`${edge.url}/c`, AbortSignal.timeout(15_000))));
    assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
    assert.equal(proxy.requests.length - first, 1, "exactly one keyset request");
    const stats = await edge.stats();
    assert.equal(stats.verifier.fetches, 1);
  } finally {
    await edge.dispose();
  }
});

test("the request that started the fetch is cancelled: the waiters still finish, bounded by the fetch timeout", async (t) => {
  const edge = await coldEdge();
  try {
    const first = proxy.requests.length;
    // The first keyset request is slow (1 s, under the fetch timeout) so the abort lands mid-fetch.
    proxy.hold(1, 1000);
    const starter = http.get(`${edge.url}/starter`, { headers: { authorization: `Bearer ${token}` } });
    let starterAnswered = false;
    starter.on("response", () => (starterAnswered = true));
    starter.on("error", () => {});
    await waitFor(() => proxy.requests.length > first, { what: "the starter's keyset request" });

    const waiters = Array.from({ length: 8 }, () => get(`${edge.url}/waiter`, AbortSignal.timeout(20_000)));
    await sleep(200); // let them reach the verifier and join the fetch in flight
    const abortedAt = Date.now();
    starter.destroy(); // the client cancels the starting request

    const results = await Promise.all(waiters);
    const doneAfterAbort = Date.now() - abortedAt;
    const keysetRequests = proxy.requests.slice(first);
    t.diagnostic(`waiters: ${results.map((r) => `${r.status}/${r.ms}ms`).join(" ")}`);
    t.diagnostic(`all waiters done ${doneAfterAbort} ms after the starter was cancelled`);
    t.diagnostic(`keyset requests: ${JSON.stringify(keysetRequests.map((r) => ({ dt: r.at - keysetRequests[0].at, closedDt: r.closedAt && r.closedAt - abortedAt, clientClosed: r.clientClosed, answered: r.answered })))}`);

    assert.equal(starterAnswered, false, "the starter never got an answer");
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(200), "every waiter verified");
    // Bound: the wait is at most the fetch timeout, then one takeover fetch (fast here).
    for (const r of results) assert.ok(r.ms < FETCH_TIMEOUT_S * 1000 + 1500, `a waiter took ${r.ms} ms`);
    // Local workerd does not cancel a request whose client went away: the starter's fetch carries
    // on and answers everyone (one keyset request). Were it cancelled, one takeover would follow.
    assert.ok(keysetRequests.length >= 1 && keysetRequests.length <= 2, `${keysetRequests.length} keyset requests`);
    assert.ok(keysetRequests.some((r) => r.answered));
  } finally {
    proxy.releaseAll();
    await edge.dispose();
  }
});

// The starter's request ends while its fetch (held 1 s by the proxy) is in flight.
//  - KEYSET_FETCH_WAIT_UNTIL=true (default): the worker hands the fetch to ctx.waitUntil of the
//    request that started it, so the fetch survives its request and answers the waiters when it
//    completes (about 1 s), below the fetch timeout; one fetch in all.
//  - false: the verifier's own guard is all there is: the fetch dies with its request (it never
//    leaves, or workerd cuts it off), and the waiters take over after one fetch timeout (1.5 s).
for (const waitUntil of ["true", "false"]) {
  for (const keysetCache of ["true", "false"]) {
    test(`the request that started the fetch ends mid-fetch (KEYSET_FETCH_WAIT_UNTIL=${waitUntil}, KEYSET_CACHE=${keysetCache}): every waiter finishes within the fetch timeout`, async (t) => {
      const edge = await startEdge(
        {
          edge: {
            KEYSET_URL: proxy.url,
            UPSTREAM_URL: upstream.url,
            FETCH_TIMEOUT_SECONDS: String(FETCH_TIMEOUT_S),
            KEYSET_CACHE: keysetCache,
            KEYSET_FETCH_WAIT_UNTIL: waitUntil,
          },
        },
        { scriptPath: join(WORKER_DIR, "test", "fixtures", "cancel-harness.js") },
      );
      try {
        const first = proxy.requests.length;
        proxy.hold(1, 1000, { windowMs: 500 }); // the starter's fetch, if it leaves at all; never a takeover
        const left = await fetch(`${edge.url}/__test/start-and-leave`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(left.status, 202);
        const leftAt = Date.now();
        const results = await Promise.all(Array.from({ length: 8 }, () => get(`${edge.url}/waiter`, AbortSignal.timeout(20_000))));
        const keysetRequests = proxy.requests.slice(first);
        const stats = await edge.stats();
        t.diagnostic(`waiters: ${results.map((r) => `${r.status}/${r.ms}ms`).join(" ")}`);
        t.diagnostic(`keyset requests: ${JSON.stringify(keysetRequests.map((r) => ({ dt: r.at - leftAt, closedDt: r.closedAt && r.closedAt - leftAt, answered: r.answered })))}; verifier fetches: ${stats.verifier.fetches}`);

        assert.deepEqual(results.map((r) => r.status), Array(8).fill(200), "every waiter verified");
        for (const r of results) assert.ok(r.ms < FETCH_TIMEOUT_S * 1000 + 1500, `a waiter took ${r.ms} ms`);
        assert.equal(keysetRequests.filter((r) => r.answered).length, 1, "one answered keyset request");
        if (waitUntil === "true") {
          assert.equal(stats.verifier.fetches, 1, "the starter's fetch served everyone");
          assert.equal(keysetRequests.length, 1);
          assert.ok(keysetRequests[0].answered);
          for (const r of results) assert.ok(r.ms < FETCH_TIMEOUT_S * 1000, `answered by the surviving fetch, not the timeout (${r.ms} ms)`);
        } else {
          assert.equal(stats.verifier.fetches, 2, "the dead fetch, then one takeover shared by all");
          // The starter's fetch never delivered: it never left, or workerd cut it off.
          assert.ok(keysetRequests.length === 1 || !keysetRequests[0].answered);
          for (const r of results) assert.ok(r.ms >= FETCH_TIMEOUT_S * 1000 - 200, `waited for the timeout (${r.ms} ms)`);
        }
      } finally {
        proxy.releaseAll();
        await edge.dispose();
      }
    });
  }
}
