// l. Algorithm migration under traffic through the worker (issue 9): EdDSA → ES256 and
//    HS256 → ES256, by `POST /keys/rotate {"algorithm":"ES256"}` (the fresh next key is ES256),
//    a refused early promotion (409 next_key_too_new before one keyset max-age), then the
//    rotation that makes ES256 sign. Clients keep sending tokens of the old algorithm while new
//    sessions and routine refreshes bring ES256 tokens: 0 non-2xx responses, 0 "try refresh
//    token" (so 0 refreshes caused by the migration). From HS256 the edge holds the edge
//    credential, and the mixed keyset it reads carries both. (The schedule-driven migration, by
//    changing `algorithm`, is tests/origin_migration.rs, on SQLite and PostgreSQL.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { Client, runTraffic } from "./helpers/traffic.js";

const algOf = (token) => JSON.parse(Buffer.from(token.split(".")[0], "base64url")).alg;

let upstream;

before(async () => {
  upstream = await startUpstream();
});

after(async () => {
  await upstream?.close();
});

async function migrate(t, from) {
  const origin = await startOrigin({ JWTEDGE_ALGORITHM: from, JWTEDGE_KEYSET_MAX_AGE: "1s" });
  const edgeEnv = {
    KEYSET_URL: origin.keysetUrl,
    UPSTREAM_URL: upstream.url,
    ISSUER: origin.url,
    AUDIENCE: "api",
    ALGORITHMS: `${from},ES256`,
    MIN_FRESH_SECONDS: "1",
  };
  if (from === "HS256") edgeEnv.KEYSET_AUTHORIZATION = `Bearer ${origin.JWTEDGE_EDGE_CREDENTIAL}`;
  const edge = await startEdge({ edge: edgeEnv });
  try {
    const send = (token) => fetch(`${edge.url}/api/data`, { headers: { authorization: `Bearer ${token}` } });
    // refreshOnTryRefresh: true — a client refreshes if the edge ever says so; none may.
    const clients = [];
    for (let i = 0; i < 4; i++) {
      clients.push(new Client(`${from}-${i}`, await origin.createSession(`user${i}`), { send, origin }));
    }
    const admin = { token: origin.JWTEDGE_ADMIN_TOKEN };
    const late = [];
    const events = [
      // The next key is made ES256 (the rotation itself promotes the old-algorithm next key).
      { atMs: 800, run: () => origin.call("POST", "/keys/rotate", { ...admin, body: { algorithm: "ES256", force: true } }) },
      // Too early for it to sign: edges may not have it yet.
      { atMs: 1000, run: () => origin.call("POST", "/keys/rotate", admin) },
      // One keyset max-age later: ES256 signs.
      { atMs: 2300, run: () => origin.call("POST", "/keys/rotate?force=true", admin) },
      { atMs: 2500, run: () => clients[1].refresh("routine") },
      {
        atMs: 2600,
        run: async () => {
          const c = new Client("late", await origin.createSession("late"), { send, origin });
          late.push(c);
          for (let i = 0; i < 40; i++) await c.once();
        },
      },
      { atMs: 3500, run: () => clients[2].refresh("routine") },
    ];
    const { start, end } = await runTraffic(clients, { durationMs: 5_000, maxPerClient: 400, events });
    const all = [...clients, ...late].flatMap((c) => c.log);
    const statuses = all.reduce((m, e) => ((m[e.status] = (m[e.status] ?? 0) + 1), m), {});
    const triggered = [...clients, ...late].flatMap((c) => c.refreshes).filter((r) => r.reason !== "routine");
    t.diagnostic(`${from} → ES256: ${all.length} requests in ${end - start} ms: ${JSON.stringify(statuses)}`);

    assert.equal(events[0].result.status, 200, events[0].result.text);
    assert.equal(events[1].result.status, 409, events[1].result.text);
    assert.equal(events[1].result.json.error, "next_key_too_new");
    assert.equal(events[2].result.status, 200, events[2].result.text);
    assert.ok(all.length >= 200, `enough traffic (${all.length})`);
    assert.deepEqual(Object.keys(statuses), ["200"], "0 failed requests");
    assert.equal(all.filter((e) => e.message === "try refresh token").length, 0);
    assert.equal(triggered.length, 0, "0 refreshes caused by the migration");
    // Both algorithms went through the edge, the old one also after ES256 began to sign.
    const es256Kid = events[2].result.json.current;
    const switchAt = Math.min(...all.filter((e) => e.kid === es256Kid).map((e) => e.at));
    assert.ok(Number.isFinite(switchAt), "ES256 tokens were verified");
    assert.ok(
      all.some((e) => e.at > switchAt && e.kid !== es256Kid && e.status === 200),
      `${from} tokens kept verifying after ES256 began to sign`,
    );
    assert.equal(algOf(late[0].session.access_token), "ES256");
    assert.equal(algOf(clients[0].session.access_token), from);
    assert.equal(kidOf(late[0].session.access_token), es256Kid);
  } finally {
    await edge.dispose();
    await origin.cleanup();
  }
}

test("EdDSA → ES256 under traffic through the worker: 0 failed requests, 0 refreshes", async (t) => {
  await migrate(t, "EdDSA");
});

test("HS256 → ES256 under traffic through the worker: 0 failed requests, 0 refreshes", async (t) => {
  await migrate(t, "HS256");
});
