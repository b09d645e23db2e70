// The Verifier's keyset fetching in Node against loopback servers: coalescing of concurrent
// verifies, ETag revalidation, unknown-kid refetch with cooldown, stale-if-error, limits, timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Verifier } from "jwtedge";
import { edKey, jwksOf, mint, keysetServer, sleep } from "./helpers.mjs";

const k1 = await edKey("k1");
const k2 = await edKey("k2");

test("1,000 concurrent verifies on a cold Verifier make one keyset request", async () => {
  const server = await keysetServer(jwksOf(k1), { delayMs: 50 });
  try {
    const verifier = new Verifier({ keysetUrl: server.url });
    const token = await mint(k1);
    const outcomes = await Promise.all(Array.from({ length: 1000 }, () => verifier.verify(token)));
    assert.equal(outcomes.filter((o) => o.status === "OK").length, 1000);
    assert.equal(server.state.requests, 1);
    assert.equal(verifier.stats().fetches, 1);
  } finally {
    await server.close();
  }
});

test("an expired keyset is revalidated with If-None-Match; 304 renews it", async () => {
  const server = await keysetServer(jwksOf(k1), { maxAge: 1 });
  try {
    const verifier = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2 });
    const token = await mint(k1);
    assert.equal((await verifier.verify(token)).status, "OK");
    assert.equal((await verifier.verify(token)).status, "OK");
    assert.equal(server.state.requests, 1, "fresh: served from memory");
    await sleep(1100);
    assert.equal((await verifier.verify(token)).status, "OK");
    assert.equal(server.state.requests, 2);
    assert.equal(server.state.notModified, 1);
    assert.equal(verifier.stats().notModified, 1);
  } finally {
    await server.close();
  }
});

test("a rotated-in key is found by one refetch; random kids cannot make it fetch more than once per cooldown", async () => {
  const server = await keysetServer(jwksOf(k1));
  try {
    const verifier = new Verifier({ keysetUrl: server.url, cooldownSeconds: 0.5 });
    assert.equal((await verifier.verify(await mint(k1))).status, "OK");
    server.state.body = jwksOf(k1, k2); // the origin publishes k2
    await sleep(600);
    assert.equal((await verifier.verify(await mint(k2))).status, "OK");
    assert.equal(server.state.requests, 2);
    const randoms = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => verifier.verify(await mint({ ...k2, kid: `random-${i}` }))),
    );
    assert.ok(randoms.every((o) => o.status === "TRY_REFRESH_TOKEN" && o.reason === "unknown_key"));
    assert.equal(server.state.requests, 2, "inside the cooldown: no more fetches");
  } finally {
    await server.close();
  }
});

test("origin down: stale keyset keeps verifying until maxStale, then KEYSET_UNAVAILABLE", async () => {
  let down = false;
  const server = await keysetServer(jwksOf(k1), {
    maxAge: 1,
    handler: (req, res) => {
      if (!down) return false;
      res.writeHead(503).end();
    },
  });
  try {
    const verifier = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2, maxStaleSeconds: 1.5, cooldownSeconds: 0.3 });
    const token = await mint(k1);
    assert.equal((await verifier.verify(token)).status, "OK");
    down = true;
    await sleep(1100); // expired
    assert.equal((await verifier.verify(token)).status, "OK", "stale-if-error");
    assert.equal((await verifier.verify(await mint(k2))).status, "KEYSET_UNAVAILABLE", "unknown kid, refetch failed");
    await sleep(1600); // past maxStale
    assert.deepEqual(await verifier.verify(token), { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" });
    assert.ok(verifier.stats().failures >= 2);
  } finally {
    await server.close();
  }
});

test("a garbage or oversized keyset never replaces a good one", async () => {
  let serve = "good";
  const big = JSON.stringify({ keys: [], pad: "x".repeat(70_000) });
  const server = await keysetServer(jwksOf(k1), {
    maxAge: 1,
    handler: (req, res) => {
      if (serve === "good") return false;
      if (serve === "garbage") return res.writeHead(200, { "cache-control": "max-age=1" }).end("<html>");
      // Chunked, no Content-Length: the cap applies while reading.
      res.writeHead(200, { "content-type": "application/json" });
      res.write(big.slice(0, 40_000));
      res.end(big.slice(40_000));
    },
  });
  try {
    const verifier = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2, cooldownSeconds: 0.2 });
    const token = await mint(k1);
    assert.equal((await verifier.verify(token)).status, "OK");
    for (const kind of ["garbage", "oversized"]) {
      serve = kind;
      await sleep(1100);
      assert.equal((await verifier.verify(token)).status, "OK", `${kind}: previous keyset still used`);
      assert.equal(verifier.stats().keys, 1);
    }
    const cold = new Verifier({ keysetUrl: server.url });
    assert.deepEqual(await cold.verify(token), { status: "KEYSET_UNAVAILABLE", reason: "invalid_keyset" });
  } finally {
    await server.close();
  }
});

test("a keyset origin that never answers times out after fetchTimeoutSeconds", async () => {
  const server = await keysetServer(jwksOf(k1), { handler: () => new Promise(() => {}) });
  try {
    const verifier = new Verifier({ keysetUrl: server.url, fetchTimeoutSeconds: 0.3 });
    const started = Date.now();
    const outcomes = await Promise.all([verifier.verify(await mint(k1)), verifier.verify(await mint(k1))]);
    const elapsed = Date.now() - started;
    assert.deepEqual(outcomes[0], { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" });
    assert.deepEqual(outcomes[1], outcomes[0]);
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(server.state.requests, 1);
  } finally {
    await server.close();
  }
});

test("a custom fetch (e.g. a Worker's Cache API layer) is used for the keyset", async () => {
  const server = await keysetServer(jwksOf(k1));
  try {
    const seen = [];
    const verifier = new Verifier({
      keysetUrl: server.url,
      fetch: (url, init) => {
        seen.push([url, init.headers["if-none-match"]]);
        return fetch(url, init);
      },
    });
    assert.equal((await verifier.verify(await mint(k1))).status, "OK");
    assert.deepEqual(seen, [[server.url, undefined]]);
    assert.throws(() => new Verifier({ keysetUrl: server.url, fetch: "yes" }), { name: "TypeError", message: /fetch/ });
  } finally {
    await server.close();
  }
});

// Issue 8, finding 12 (SPEC §5): freshness is max-age minus Age (RFC 9111 §4.2.3). A copy that
// sat 3 s in a CDN with max-age=4 is trusted for 1 s, not 4.
test("freshness counts the Age header: max-age=4 with Age: 3 is refetched after 1 s", async () => {
  const server = await keysetServer(jwksOf(k1), {
    handler: (req, res, state) => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=4", age: state.age });
      res.end(state.body);
    },
  });
  try {
    const token = await mint(k1);
    server.state.age = "3";
    const aged = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2 });
    assert.equal((await aged.verify(token)).status, "OK");
    await sleep(300);
    assert.equal((await aged.verify(token)).status, "OK");
    assert.equal(server.state.requests, 1, "fresh for a while: served from memory");
    await sleep(1000); // 1.3 s after the load: past max-age minus Age
    assert.equal((await aged.verify(token)).status, "OK");
    assert.equal(server.state.requests, 2, "refetched once max-age minus Age had passed");

    // The same response without Age (a direct copy) holds for the whole max-age.
    server.state.age = "0";
    const direct = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2 });
    assert.equal((await direct.verify(token)).status, "OK");
    await sleep(1300);
    assert.equal((await direct.verify(token)).status, "OK");
    assert.equal(server.state.requests, 3, "Age: 0 is fresh for max-age");
  } finally {
    await server.close();
  }
});

/// A loopback server answering every request with `status` and a Location to `target`.
async function redirector(target, status) {
  return keysetServer("", {
    handler: (req, res) => {
      res.writeHead(status, { location: target, "cache-control": "max-age=3600", "content-type": "application/json" });
      res.end(jwksOf(k2)); // even a keyset in the redirect's own body is never read
    },
  });
}

// Issue 8, finding 13 (SPEC §5): a redirect is not followed, and the keyset of the place it
// points to is never trusted: a 3xx is a failed fetch.
test("a redirect to another host is a failed fetch; the target's keyset is never trusted", async () => {
  const target = await keysetServer(jwksOf(k1, k2));
  const attackerToken = await mint(k2);
  try {
    for (const status of [301, 302, 303, 307, 308]) {
      const redirect = await redirector(target.url, status);
      try {
        const verifier = new Verifier({ keysetUrl: redirect.url });
        assert.deepEqual(await verifier.verify(attackerToken), { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" }, `${status}`);
        assert.equal(redirect.state.requests, 1);
        assert.equal(verifier.stats().keys, 0);
        assert.equal(verifier.stats().failures, 1);
      } finally {
        await redirect.close();
      }
    }
    assert.equal(target.state.requests, 0, "the redirect target was never asked");
  } finally {
    await target.close();
  }
});

test("an origin that starts redirecting: the stale keyset serves (stale-if-error), the target's key never verifies", async () => {
  const target = await keysetServer(jwksOf(k2));
  let redirecting = false;
  const origin = await keysetServer(jwksOf(k1), {
    maxAge: 1,
    handler: (req, res) => {
      if (!redirecting) return false;
      res.writeHead(302, { location: target.url }).end();
    },
  });
  try {
    const verifier = new Verifier({ keysetUrl: origin.url, minFreshSeconds: 0.2, cooldownSeconds: 0.2 });
    const token = await mint(k1);
    assert.equal((await verifier.verify(token)).status, "OK");
    redirecting = true;
    await sleep(1100); // expired
    assert.equal((await verifier.verify(token)).status, "OK", "stale-if-error");
    assert.equal(origin.state.requests, 2);
    await sleep(300); // past the cooldown: the unknown kid may refetch, and is redirected again
    assert.deepEqual(await verifier.verify(await mint(k2)), { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" });
    assert.equal(origin.state.requests, 3);
    assert.equal(target.state.requests, 0, "the redirect target was never asked");
    assert.equal(verifier.stats().keys, 1);
  } finally {
    await origin.close();
    await target.close();
  }
});

// Issue 8, finding 14 (SPEC §3): a keyset in which no key is usable — {"keys":[]} included — is
// invalid_keyset, and the previous keyset stays in use (no TRY_REFRESH_TOKEN refresh loops).
test("an empty keyset never replaces a good one; cold, it is invalid_keyset", async () => {
  const server = await keysetServer(jwksOf(k1), { maxAge: 1 });
  try {
    const verifier = new Verifier({ keysetUrl: server.url, minFreshSeconds: 0.2, cooldownSeconds: 0.2 });
    const token = await mint(k1);
    assert.equal((await verifier.verify(token)).status, "OK");
    server.state.body = '{"keys":[]}';
    await sleep(1100); // expired: the refetch brings the empty keyset
    assert.deepEqual((await verifier.verify(token)).status, "OK", "the previous keyset is still used");
    assert.equal(server.state.requests, 2);
    assert.equal(verifier.stats().keys, 1);
    assert.equal(verifier.stats().failures, 1);
    // A kid the good keyset lacks: not "refresh", the keyset is what is wrong.
    assert.deepEqual(await verifier.verify(await mint(k2)), { status: "KEYSET_UNAVAILABLE", reason: "invalid_keyset" });

    const cold = new Verifier({ keysetUrl: server.url });
    assert.deepEqual(await cold.verify(token), { status: "KEYSET_UNAVAILABLE", reason: "invalid_keyset" });
    assert.equal(cold.stats().keys, 0);
  } finally {
    await server.close();
  }
});
