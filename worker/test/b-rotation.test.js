// b. Scheduled rotation (forced through the admin API) under continuous traffic: 0 non-2xx
//    responses, 0 "try refresh token"; the keyset requests the edge made are revalidations only
//    (every one after the first carries If-None-Match), about one per max-age, as the origin's
//    metrics show.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { startKeysetProxy } from "./helpers/keyset-proxy.js";
import { Client, runTraffic } from "./helpers/traffic.js";

const MAX_AGE_S = 2;
const DURATION_MS = 7_000;
let origin, upstream, proxy, edge;

before(async () => {
  origin = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: `${MAX_AGE_S}s` });
  upstream = await startUpstream();
  proxy = await startKeysetProxy(origin.keysetUrl);
  edge = await startEdge({
    edge: {
      KEYSET_URL: proxy.url,
      UPSTREAM_URL: upstream.url,
      ISSUER: origin.url,
      AUDIENCE: "api",
      MIN_FRESH_SECONDS: "1",
    },
  });
});

after(async () => {
  await edge?.dispose();
  await proxy?.close();
  await upstream?.close();
  await origin?.cleanup();
});

test("two rotations under continuous traffic: no client notices", async (t) => {
  const send = (token) => fetch(`${edge.url}/api/data`, { headers: { authorization: `Bearer ${token}` } });
  const clients = [];
  for (let i = 0; i < 4; i++) {
    clients.push(new Client(`c${i}`, await origin.createSession(`user${i}`), { send, origin, refreshOnTryRefresh: false }));
  }
  const kid0 = kidOf(clients[0].session.access_token);
  const servedBefore = await origin.keysetServed();
  const proxyBefore = proxy.requests.length;

  // Rotate twice; after each, some clients pick up tokens signed by the new key (a routine
  // refresh, and a brand-new session) while the others keep their old tokens.
  const late = [];
  const events = [
    { atMs: 1500, run: () => origin.rotate() },
    { atMs: 1700, run: () => clients[1].refresh("routine") },
    {
      atMs: 1800,
      run: async () => {
        const c = new Client("late1", await origin.createSession("late1"), { send, origin, refreshOnTryRefresh: false });
        late.push(c);
        for (let i = 0; i < 30; i++) await c.once();
      },
    },
    { atMs: 4500, run: () => origin.rotate() },
    { atMs: 4700, run: () => clients[2].refresh("routine") },
    { atMs: 4800, run: () => clients[3].refresh("routine") },
  ];
  const { start, end } = await runTraffic(clients, { durationMs: DURATION_MS, maxPerClient: 400, events });
  const all = [...clients, ...late].flatMap((c) => c.log);
  const statuses = all.reduce((m, e) => ((m[e.status] = (m[e.status] ?? 0) + 1), m), {});
  const kids = [...new Set(all.map((e) => e.kid))];
  t.diagnostic(`${all.length} requests in ${end - start} ms: ${JSON.stringify(statuses)}; token kids seen: ${kids.length}`);

  assert.ok(all.length >= 200, `enough traffic (${all.length})`);
  assert.deepEqual(Object.keys(statuses), ["200"], "0 non-2xx responses");
  assert.equal(all.filter((e) => e.message === "try refresh token").length, 0);
  assert.equal(events[0].result.rotated, true);
  assert.equal(events[3].result.rotated, true);
  assert.equal(events[0].result.previous, kid0);
  assert.equal(kids.length, 3, "tokens of three keys were verified");

  // Keyset requests: revalidations only.
  const keysetRequests = proxy.requests.slice(proxyBefore);
  const served = await origin.keysetServed();
  const originCount = served.total - servedBefore.total;
  const stats = await edge.stats();
  t.diagnostic(
    `keyset requests: ${keysetRequests.length} (origin metrics: +${served.ok - servedBefore.ok} 200, +${served.notModified - servedBefore.notModified} 304); ` +
      `edge verifier: ${JSON.stringify(stats.verifier)}`,
  );
  assert.equal(originCount, keysetRequests.length, "the origin's metrics count the edge's requests");
  assert.equal(keysetRequests[0].ifNoneMatch, null, "the cold start");
  assert.ok(keysetRequests.slice(1).every((r) => r.ifNoneMatch !== null), "every later request is a revalidation");
  const bound = Math.ceil(DURATION_MS / (MAX_AGE_S * 1000)) + 2;
  assert.ok(keysetRequests.length >= 3 && keysetRequests.length <= bound, `${keysetRequests.length} keyset requests (≤ ${bound})`);
  assert.ok(served.notModified - servedBefore.notModified >= 1, "some revalidations were 304");
});

test("the origin's own schedule rotates every 3 s under traffic: no client notices", async (t) => {
  const scheduled = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: "1s", JWTEDGE_ROTATION_INTERVAL: "3s" });
  const scheduledProxy = await startKeysetProxy(scheduled.keysetUrl);
  const scheduledEdge = await startEdge({
    edge: { KEYSET_URL: scheduledProxy.url, UPSTREAM_URL: upstream.url, MIN_FRESH_SECONDS: "1" },
  });
  try {
    const send = (token) => fetch(`${scheduledEdge.url}/api/data`, { headers: { authorization: `Bearer ${token}` } });
    const clients = [];
    for (let i = 0; i < 3; i++) {
      clients.push(new Client(`s${i}`, await scheduled.createSession(`sched${i}`), { send, origin: scheduled, refreshOnTryRefresh: false }));
    }
    const rotationsBefore = await scheduled.metric('jwtedge_key_events_total{event="scheduled_rotation"}');
    // Routine refreshes, staggered, so tokens of each new signing key join the traffic.
    const events = Array.from({ length: 9 }, (_, i) => ({ atMs: 800 * (i + 1), run: () => clients[i % 3].refresh("routine") }));
    await runTraffic(clients, { durationMs: 8_000, maxPerClient: 400, events });
    const rotations = (await scheduled.metric('jwtedge_key_events_total{event="scheduled_rotation"}')) - rotationsBefore;
    const all = clients.flatMap((c) => c.log);
    const statuses = all.reduce((m, e) => ((m[e.status] = (m[e.status] ?? 0) + 1), m), {});
    const kids = new Set(all.map((e) => e.kid));
    const keysetRequests = scheduledProxy.requests;
    t.diagnostic(`${all.length} requests: ${JSON.stringify(statuses)}; scheduled rotations: ${rotations}; token kids: ${kids.size}; keyset requests: ${keysetRequests.length}`);
    assert.ok(rotations >= 2, `the schedule rotated (${rotations})`);
    assert.ok(kids.size >= 3, "tokens of at least three keys were verified");
    assert.deepEqual(Object.keys(statuses), ["200"], "0 non-2xx responses");
    assert.ok(keysetRequests.slice(1).every((r) => r.ifNoneMatch !== null), "revalidations only");
    assert.ok(keysetRequests.length <= 8 + 2, `about one keyset request per max-age (${keysetRequests.length})`);
  } finally {
    await scheduledEdge.dispose();
    await scheduledProxy.close();
    await scheduled.cleanup();
  }
});
