// The worker's pure parts in Node (fast): token extraction, path guarding, identity headers,
// configuration errors, and the Cache API layer's rules against an in-memory cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractToken, readCookie } from "../src/token.js";
import { isGuarded } from "../src/guard.js";
import { setIdentity, stripIdentity } from "../src/headers.js";
import { readConfig } from "../src/config.js";
import { cachedKeysetFetch, shareableSeconds } from "../src/keyset-cache.js";

test("token extraction: bearer first, then the cookie", () => {
  const req = (headers) => new Request("http://x/", { headers });
  assert.equal(extractToken(req({ authorization: "Bearer abc" })), "abc");
  assert.equal(extractToken(req({ authorization: "bearer   abc " })), "abc");
  assert.equal(extractToken(req({ authorization: "Basic abc" })), undefined);
  assert.equal(extractToken(req({ authorization: "Bearer a b" })), undefined);
  assert.equal(extractToken(req({ cookie: "at=xyz" }), "at"), "xyz");
  assert.equal(extractToken(req({ authorization: "Bearer abc", cookie: "at=xyz" }), "at"), "abc");
  assert.equal(extractToken(req({ cookie: "at=xyz" })), undefined, "no cookie configured");
  assert.equal(readCookie('a=1; at="q"; b=2', "at"), "q");
  assert.equal(readCookie("xat=1", "at"), undefined);
  assert.equal(readCookie("at=", "at"), undefined);
});

test("guarded paths match at segment boundaries", () => {
  assert.ok(isGuarded("/anything", ["/"]));
  assert.ok(isGuarded("/api", ["/api"]));
  assert.ok(isGuarded("/api/x", ["/api"]));
  assert.ok(!isGuarded("/apix", ["/api"]));
  assert.ok(isGuarded("/api/", ["/api/"]));
  assert.ok(isGuarded("/api", ["/api/"]));
  assert.ok(!isGuarded("/public", ["/api", "/account/"]));
});

test("identity headers: every x-jwtedge-* removed, then the verified ones set", () => {
  const h = stripIdentity(new Headers({ "X-Jwtedge-Sub": "m", "x-jwtedge-anything": "1", other: "k" }));
  assert.deepEqual([...h.keys()], ["other"]);
  setIdentity(h, { claims: { sub: "alice", sid: "s1" }, kid: "k1" });
  assert.equal(h.get("x-jwtedge-sub"), "alice");
  assert.equal(h.get("x-jwtedge-sid"), "s1");
  assert.equal(h.get("x-jwtedge-kid"), "k1");
});

test("configuration errors name the binding", () => {
  const good = { KEYSET_URL: "https://a/jwks", UPSTREAM_URL: "https://b" };
  assert.equal(readConfig(good).guardedPaths[0], "/");
  for (const [env, binding] of [
    [{ UPSTREAM_URL: "https://b" }, "KEYSET_URL"],
    [{ ...good, UPSTREAM_URL: "nope" }, "UPSTREAM_URL"],
    [{ ...good, GUARDED_PATHS: "api" }, "GUARDED_PATHS"],
    [{ ...good, KEYSET_AUTHORIZATION: "secret" }, "KEYSET_AUTHORIZATION"],
    [{ ...good, TOKEN_COOKIE: "a b" }, "TOKEN_COOKIE"],
    [{ ...good, COOLDOWN_SECONDS: "soon" }, "COOLDOWN_SECONDS"],
    [{ ...good, KEYSET_CACHE: "maybe" }, "KEYSET_CACHE"],
  ]) {
    assert.throws(() => readConfig(env), new RegExp(`invalid binding ${binding}`));
  }
  const c = readConfig({ ...good, GUARDED_PATHS: "/api, /b/", ISSUER: "https://i", MIN_FRESH_SECONDS: "1" });
  assert.deepEqual(c.guardedPaths, ["/api", "/b/"]);
  assert.equal(c.verifierOptions.issuer, "https://i");
  assert.equal(c.verifierOptions.minFreshSeconds, 1);
});

// An in-memory stand-in for a Cache API cache (keyed by URL).
function memoryCache() {
  const map = new Map();
  return {
    map,
    async match(req) {
      const r = map.get(req.url);
      return r ? r.clone() : undefined;
    },
    async put(req, res) {
      map.set(req.url, res.clone());
    },
    async delete(req) {
      return map.delete(req.url);
    },
  };
}

function origin(responses) {
  const calls = [];
  const fetcher = async (url, init) => {
    calls.push({ url, ifNoneMatch: new Headers(init?.headers).get("if-none-match") });
    const next = responses.shift();
    return new Response(next.body ?? null, { status: next.status ?? 200, headers: next.headers });
  };
  return { calls, fetcher };
}

const keyset = '{"keys":[]}';
const publicHeaders = (maxAge, etag = '"v1"') => ({
  "cache-control": `public, max-age=${maxAge}`,
  etag,
  "content-length": String(keyset.length),
});

test("shareable: public max-age only; private, no-store, no-cache and cookies never", () => {
  const r = (headers) => new Response("", { headers });
  assert.equal(shareableSeconds(r({ "cache-control": "public, max-age=300" })), 300);
  assert.equal(shareableSeconds(r({ "cache-control": "max-age=60, s-maxage=30" })), 30);
  assert.equal(shareableSeconds(r({ "cache-control": "private, no-store, max-age=300" })), 0);
  assert.equal(shareableSeconds(r({ "cache-control": "no-cache, max-age=300" })), 0);
  assert.equal(shareableSeconds(r({ "cache-control": "max-age=300", "set-cookie": "a=b" })), 0);
  assert.equal(shareableSeconds(r({})), 0);
});

test("cache layer: a fresh copy serves new isolates, with what is left of max-age", async () => {
  const cache = memoryCache();
  let now = 1_000_000;
  const o = origin([{ body: keyset, headers: publicHeaders(300) }]);
  const a = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher, now: () => now });
  const b = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher, now: () => now });
  assert.equal(await (await a("https://o/jwks", {})).text(), keyset);
  now += 100_000;
  const res = await b("https://o/jwks", {});
  assert.equal(await res.text(), keyset);
  assert.equal(res.headers.get("cache-control"), "max-age=200");
  assert.equal(res.headers.get("etag"), '"v1"');
  assert.equal(o.calls.length, 1);
  assert.deepEqual([b.stats.hits, b.stats.originFetches], [1, 0]);
});

test("cache layer: an expired copy is not served", async () => {
  const cache = memoryCache();
  let now = 0;
  const o = origin([{ body: keyset, headers: publicHeaders(10) }, { body: keyset, headers: publicHeaders(10, '"v2"') }]);
  const f = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher, now: () => now });
  await f("https://o/jwks", {});
  now += 10_000;
  const res = await f("https://o/jwks", {});
  assert.equal(res.headers.get("etag"), '"v2"');
  assert.equal(o.calls.length, 2);
});

test("cache layer: the isolate holding the cached copy goes to the origin; a 304 renews the copy", async () => {
  const cache = memoryCache();
  let now = 0;
  const o = origin([{ body: keyset, headers: publicHeaders(60) }, { status: 304, headers: { "cache-control": "public, max-age=60", etag: '"v1"' } }]);
  const f = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher, now: () => now });
  await f("https://o/jwks", {});
  now += 50_000;
  const res = await f("https://o/jwks", { headers: { "if-none-match": '"v1"' } });
  assert.equal(res.status, 304);
  assert.equal(o.calls.length, 2);
  assert.equal(o.calls[1].ifNoneMatch, '"v1"');
  assert.equal(f.stats.renewed, 1);
  now += 50_000; // 100 s after the first store, 50 s after the renewal: still fresh
  const other = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher, now: () => now });
  const copy = await other("https://o/jwks", {});
  assert.equal(copy.status, 200);
  assert.equal(copy.headers.get("cache-control"), "max-age=10");
});

test("cache layer: an HMAC keyset (private, no-store) is never stored", async () => {
  const cache = memoryCache();
  const o = origin([
    { body: keyset, headers: { "cache-control": "private, no-store, max-age=300", "content-length": "11" } },
    { body: keyset, headers: { "cache-control": "private, no-store, max-age=300", "content-length": "11" } },
  ]);
  const f = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher });
  await f("https://o/jwks", { headers: { authorization: "Bearer e" } });
  await f("https://o/jwks", {});
  assert.equal(cache.map.size, 0);
  assert.equal(o.calls.length, 2);
  assert.equal(f.stats.notStored, 2);
});

test("cache layer: errors and oversized or unsized bodies pass through unstored", async () => {
  const cache = memoryCache();
  const o = origin([
    { status: 500, body: "x", headers: { "cache-control": "public, max-age=300" } },
    { body: keyset, headers: { "cache-control": "public, max-age=300" } },
  ]);
  const f = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher });
  assert.equal((await f("https://o/jwks", {})).status, 500);
  assert.equal((await f("https://o/jwks", {})).status, 200);
  assert.equal(cache.map.size, 0);
});

test("cache layer: the body is read into memory (304 stays bodiless; an oversized body is flagged, not read)", async () => {
  const big = "x".repeat(70 * 1024);
  const o = origin([
    { status: 304, headers: { etag: '"v1"' } },
    { body: big, headers: { "cache-control": "private" } },
  ]);
  const kept = [];
  const f = cachedKeysetFetch({ cache: () => undefined, fetcher: o.fetcher, keepAlive: (p) => kept.push(p) });
  const notModified = await f("https://o/jwks", { headers: { "if-none-match": '"v1"' } });
  assert.equal(notModified.status, 304);
  const tooBig = await f("https://o/jwks", {});
  assert.ok(Number(tooBig.headers.get("content-length")) > 64 * 1024, "declared over the limit");
  assert.equal(kept.length, 2, "every fetch is handed to keepAlive");
  await Promise.all(kept);
});
