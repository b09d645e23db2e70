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
