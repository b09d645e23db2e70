// The Verifier's keyset fetch in workerd (issue 8, findings 12 and 13; SPEC §5), on pkg/ itself
// (a probe worker) and through the guard worker:
// - freshness is max-age minus Age: `max-age=4, Age: 3` is trusted for 1 s, not 4;
// - a redirect is a failed fetch (workerd's fetch with `redirect: "manual"` answers the 3xx): the
//   place it points to is never asked, and its keyset never trusted.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { join } from "node:path";
import { WORKER_DIR, startEdge } from "./helpers/edge.js";
import { startUpstream } from "./helpers/upstream.js";
import { sleep } from "./helpers/wait.js";

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** An Ed25519 key: its JWK and a function minting an access token signed by it. */
function edKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
  const mint = (claims = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: "EdDSA", kid, typ: "at+jwt" })}.${b64({ sub: "alice", sid: "s-1", iat: now, exp: now + 600, ...claims })}`;
    return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
  };
  return { kid, jwk, mint };
}
const jwksOf = (...keys) => JSON.stringify({ keys: keys.map((k) => k.jwk) });

/** A loopback server; `respond(req, res)` answers, every request is counted. */
async function server(respond) {
  const s = { requests: 0 };
  const srv = http.createServer((req, res) => {
    s.requests++;
    respond(req, res);
  });
  srv.keepAliveTimeout = 100;
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${srv.address().port}/.well-known/jwks.json`;
  s.close = () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); });
  return s;
}

const serveKeyset = (body, headers) => (req, res) => {
  res.writeHead(200, { "content-type": "application/json", ...headers() });
  res.end(body());
};

const good = edKey("good");
const evil = edKey("evil");
let probe, nextId = 0;

before(async () => {
  probe = await startEdge({ probe: {} }, { scriptPath: join(WORKER_DIR, "test", "helpers", "verifier-probe.js") });
});

after(async () => {
  await probe?.dispose();
});

/** Verifies `token` with the probe's Verifier `id` (made from `options` on first use). */
async function verify(id, options, token) {
  const res = await probe.fetchFrom("probe", "/verify", { method: "POST", body: JSON.stringify({ id, options, token }) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test("workerd: freshness counts the Age header (max-age=4, Age: 3 → refetched after 1 s)", async () => {
  let age = "3";
  const origin = await server(serveKeyset(() => jwksOf(good), () => ({ "cache-control": "public, max-age=4", age })));
  try {
    const token = good.mint();
    const aged = { id: ++nextId, options: { keysetUrl: origin.url, minFreshSeconds: 0.2 } };
    assert.equal((await verify(aged.id, aged.options, token)).outcome.status, "OK");
    await sleep(300);
    assert.equal((await verify(aged.id, aged.options, token)).outcome.status, "OK");
    assert.equal(origin.requests, 1, "fresh for a while: served from memory");
    await sleep(1000); // 1.3 s after the load: past max-age minus Age
    const later = await verify(aged.id, aged.options, token);
    assert.equal(later.outcome.status, "OK");
    assert.equal(origin.requests, 2, "refetched once max-age minus Age had passed");
    assert.equal(later.stats.fetches, 2);

    // Age: 0 (a direct copy) holds for the whole max-age.
    age = "0";
    const direct = { id: ++nextId, options: { keysetUrl: origin.url, minFreshSeconds: 0.2 } };
    assert.equal((await verify(direct.id, direct.options, token)).outcome.status, "OK");
    await sleep(1300);
    assert.equal((await verify(direct.id, direct.options, token)).outcome.status, "OK");
    assert.equal(origin.requests, 3, "Age: 0 is fresh for max-age");
  } finally {
    await origin.close();
  }
});

test("workerd: a redirect to another host is a failed fetch; the target's keyset is never trusted", async () => {
  const target = await server(serveKeyset(() => jwksOf(good, evil), () => ({ "cache-control": "max-age=300" })));
  try {
    for (const status of [301, 302, 303, 307, 308]) {
      const redirect = await server((req, res) => {
        res.writeHead(status, { location: target.url, "content-type": "application/json" });
        res.end(jwksOf(evil)); // a keyset in the redirect's own body is never read either
      });
      try {
        const { outcome, stats } = await verify(++nextId, { keysetUrl: redirect.url }, evil.mint());
        assert.deepEqual(outcome, { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" }, `${status}`);
        assert.equal(redirect.requests, 1);
        assert.equal(stats.keys, 0);
        assert.equal(stats.failures, 1);
      } finally {
        await redirect.close();
      }
    }
    assert.equal(target.requests, 0, "the redirect target was never asked");
  } finally {
    await target.close();
  }
});

test("workerd: an origin that starts redirecting keeps its stale keyset; the target's key never verifies", async () => {
  const target = await server(serveKeyset(() => jwksOf(evil), () => ({ "cache-control": "max-age=300" })));
  let redirecting = false;
  const origin = await server((req, res) => {
    if (redirecting) return res.writeHead(302, { location: target.url }).end();
    serveKeyset(() => jwksOf(good), () => ({ "cache-control": "max-age=1" }))(req, res);
  });
  try {
    const v = { id: ++nextId, options: { keysetUrl: origin.url, minFreshSeconds: 0.2, cooldownSeconds: 0.2 } };
    assert.equal((await verify(v.id, v.options, good.mint())).outcome.status, "OK");
    redirecting = true;
    await sleep(1100); // expired
    assert.equal((await verify(v.id, v.options, good.mint())).outcome.status, "OK", "stale-if-error");
    assert.equal(origin.requests, 2);
    await sleep(300); // past the cooldown: the unknown kid refetches, and is redirected again
    const { outcome, stats } = await verify(v.id, v.options, evil.mint());
    assert.deepEqual(outcome, { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" });
    assert.equal(origin.requests, 3);
    assert.equal(stats.keys, 1);
    assert.equal(target.requests, 0, "the redirect target was never asked");
  } finally {
    await origin.close();
    await target.close();
  }
});

test("the guard worker: a KEYSET_URL that redirects lets nothing through (503), the target is never asked", async () => {
  const target = await server(serveKeyset(() => jwksOf(evil), () => ({ "cache-control": "public, max-age=300" })));
  const redirect = await server((req, res) => res.writeHead(302, { location: target.url }).end());
  const upstream = await startUpstream();
  const edge = await startEdge({ edge: { KEYSET_URL: redirect.url, UPSTREAM_URL: upstream.url } });
  try {
    const res = await fetch(`${edge.url}/api/x`, { headers: { authorization: `Bearer ${evil.mint()}` } });
    await res.arrayBuffer();
    assert.equal(res.status, 503);
    assert.equal(upstream.requests.length, 0, "nothing reached the upstream");
    assert.ok(redirect.requests >= 1);
    assert.equal(target.requests, 0, "the redirect target was never asked");
  } finally {
    await edge.dispose();
    await upstream.close();
    await redirect.close();
    await target.close();
  }
});

test("the guard worker: a copy with Age is shared across isolates only for max-age minus Age", async () => {
  const origin = await server(serveKeyset(() => jwksOf(good), () => ({ "cache-control": "public, max-age=4", age: "3" })));
  const upstream = await startUpstream();
  const bindings = { KEYSET_URL: origin.url, UPSTREAM_URL: upstream.url, MIN_FRESH_SECONDS: "0.2", COOLDOWN_SECONDS: "0.2" };
  const edge = await startEdge({ a: bindings, b: bindings });
  try {
    const get = (name) => edge.fetchFrom(name, "/x", { headers: { authorization: `Bearer ${good.mint()}` } });
    const first = await get("a");
    await first.arrayBuffer();
    assert.equal(first.status, 200);
    assert.equal(origin.requests, 1);
    await sleep(1300); // past max-age minus Age: neither a's keyset nor the colo copy is fresh
    const second = await get("b");
    await second.arrayBuffer();
    assert.equal(second.status, 200);
    assert.equal(origin.requests, 2, "isolate b went to the origin, not to a copy past its age");
    const third = await get("a");
    await third.arrayBuffer();
    assert.equal(third.status, 200);
    assert.ok(origin.requests >= 2);
    assert.ok((await edge.stats("a")).verifier.fetches >= 2, "isolate a refetched too");
  } finally {
    await edge.dispose();
    await upstream.close();
    await origin.close();
  }
});
