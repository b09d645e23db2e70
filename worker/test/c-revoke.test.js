// c. Emergency revoke under traffic: within one keyset max-age every request with a token of the
//    revoked key gets 401 "try refresh token"; each client refreshes once and carries on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { Client, runTraffic } from "./helpers/traffic.js";

const MAX_AGE_S = 2;
const SLACK_MS = 1_000; // request latency and timer granularity
let origin, upstream, edge;

before(async () => {
  origin = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: `${MAX_AGE_S}s` });
  upstream = await startUpstream();
  edge = await startEdge({
    edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, MIN_FRESH_SECONDS: "1" },
  });
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

test("revoking the current key under traffic: 401 try refresh within one max-age, one refresh per client, then 200s", async (t) => {
  const send = (token) => fetch(`${edge.url}/api/data`, { headers: { authorization: `Bearer ${token}` } });
  const clients = [];
  for (let i = 0; i < 5; i++) clients.push(new Client(`c${i}`, await origin.createSession(`user${i}`), { send, origin }));
  const revoked = kidOf(clients[0].session.access_token);
  const events = [{ atMs: 1000, run: () => origin.revoke(revoked) }];
  await runTraffic(clients, { durationMs: 6_000, maxPerClient: 400, events });
  const revokedAt = events[0].firedAt;
  assert.equal(events[0].result.revoked, revoked);
  assert.equal(events[0].result.was, "current");
  const successor = events[0].result.current;

  const all = clients.flatMap((c) => c.log);
  const outcomes = [...new Set(all.map((e) => `${e.status} ${e.message ?? ""}`.trim()))].sort();
  assert.deepEqual(outcomes, ["200", "401 try refresh token"], "only 200s and refresh hints");

  const revokedLog = all.filter((e) => e.kid === revoked);
  const lastOk = Math.max(...revokedLog.filter((e) => e.status === 200).map((e) => e.at));
  const firstHint = Math.min(...revokedLog.filter((e) => e.status === 401).map((e) => e.at));
  t.diagnostic(
    `${all.length} requests; revoked-key tokens: last 200 at +${lastOk - revokedAt} ms, first 401 at +${firstHint - revokedAt} ms after the revoke`,
  );
  assert.ok(lastOk - revokedAt <= MAX_AGE_S * 1000 + SLACK_MS, "the revoked key stopped passing within one max-age");
  // After that, every request with a token of the revoked key is refused with the hint.
  for (const e of revokedLog.filter((e) => e.at > revokedAt + MAX_AGE_S * 1000 + SLACK_MS)) {
    assert.equal(e.status, 401);
  }
  const probe = await send(clients[0].session.access_token);
  assert.equal(probe.status, 200, "the refreshed token passes");

  for (const c of clients) {
    assert.equal(c.refreshes.length, 1, `${c.name} refreshed exactly once`);
    assert.equal(c.refreshes[0].status, 200);
    assert.equal(kidOf(c.session.access_token), successor, "new tokens are signed by the successor key");
    const afterRefresh = c.log.filter((e) => e.at > c.refreshes[0].at);
    assert.ok(afterRefresh.length >= 10, `${c.name} carried on`);
    assert.ok(afterRefresh.every((e) => e.status === 200), `${c.name}: only 200s after its refresh`);
  }
});
