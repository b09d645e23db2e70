// The worker's pure parts in Node (fast): token extraction (jwtedge/fetch, the guard it answers
// through), path guarding, identity headers, configuration errors, and the Cache API layer's
// rules against an in-memory cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractToken, readCookie } from "jwtedge/fetch";
import { isGuarded } from "../src/guard.js";
import { canonicalPath, PathError } from "../src/path.js";
import { IdentityError, identityOf, identityProblem, isIdentityHeader, setIdentity, stripIdentity } from "../src/headers.js";
import { readConfig } from "../src/config.js";
import { cachedKeysetFetch, holdsSecretKeys, shareableSeconds } from "../src/keyset-cache.js";

test("token extraction: bearer first, then the cookie", () => {
  const req = (headers) => new Request("http://x/", { headers });
  assert.equal(extractToken(req({ authorization: "Bearer abc" })), "abc");
  assert.equal(extractToken(req({ authorization: "bearer   abc " })), "abc");
  assert.equal(extractToken(req({ authorization: "Basic abc" })), undefined);
  assert.equal(extractToken(req({ authorization: "Bearer a b" })), undefined);
  assert.equal(extractToken(req({ cookie: "at=xyz" }), "at"), "xyz");
  assert.equal(extractToken(req({ authorization: "Bearer abc", cookie: "at=xyz" }), "at"), "abc");
  // SPEC §8: the cookie only when there is no Authorization header at all.
  assert.equal(extractToken(req({ authorization: "Basic YTpi", cookie: "at=xyz" }), "at"), undefined);
  assert.equal(extractToken(req({ authorization: "Bearer", cookie: "at=xyz" }), "at"), undefined);
  assert.equal(extractToken(req({ authorization: "", cookie: "at=xyz" }), "at"), undefined);
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

test("canonical path: decoded, dot-segments resolved, slashes merged", () => {
  const ok = (raw, want) => assert.deepEqual(canonicalPath(raw), { ok: true, path: want }, raw);
  ok("/", "/");
  ok("/api/x", "/api/x");
  ok("/%61pi/secret", "/api/secret");
  ok("/%61%70%69/%73ecret", "/api/secret");
  ok("//api/x", "/api/x");
  ok("/x//api///y/", "/x/api/y/");
  ok("/x/../api/x", "/api/x");
  ok("/x/%2e%2E/api/x", "/api/x");
  ok("/x/.%2e/api/./x", "/api/x");
  ok("/../../api", "/api");
  ok("/api/..", "/");
  ok("/api/.", "/api/");
  ok("/API/x", "/API/x"); // case is kept: matching is case-sensitive (unless configured)
  ok("/a%21b!%7e%7E", "/a!b!~~"); // one spelling for each character
  ok("/caf%c3%a9/%E6%97%A5", "/caf%C3%A9/%E6%97%A5"); // non-ASCII stays encoded, upper-case hex
  ok("/a%20b%22%3C%3E%60%7B%7D", "/a%20b%22%3C%3E%60%7B%7D");
});

test("canonical path: whatever depends on the upstream is refused, with a code", () => {
  const refused = (raw, code) => assert.deepEqual(canonicalPath(raw), { ok: false, code }, raw);
  for (const raw of ["/api%2Fsecret", "/api%2fsecret", "/x/..%2Fapi/x", "/api%5Cx", "/api%5cx", "/api%3B/x", "/api%3b/x", "/a%3Fb", "/a%23b"]) {
    refused(raw, PathError.ENCODED_DELIMITER);
  }
  refused("/api%25/x", PathError.ENCODED_PERCENT);
  refused("/a%252Fb", PathError.ENCODED_PERCENT);
  for (const raw of ["/a%", "/a%2", "/a%zz", "/a%%41", "/a%2G"]) refused(raw, PathError.INVALID_PERCENT_ENCODING);
  for (const raw of ["/api%00", "/a%0A", "/a%7f", "/a%1F"]) refused(raw, PathError.ENCODED_CONTROL);
  for (const raw of ["/%C0%AF", "/%E0%80%AF", "/%FF", "/%C3", "/%ED%A0%80"]) refused(raw, PathError.INVALID_UTF8);
  refused("/api;/x", PathError.SEMICOLON);
  refused("/api;jsessionid=1/x", PathError.SEMICOLON);
  refused("/api\\x", PathError.BACKSLASH);
  refused("api/x", PathError.NOT_ABSOLUTE);
  refused("", PathError.NOT_ABSOLUTE);
  refused("/a b", PathError.INVALID_CHARACTER);
  refused("/caf\u00e9", PathError.INVALID_CHARACTER);
});

test("canonical path: canonical is a fixed point, and the URL parser keeps it", () => {
  for (const raw of ["/%61pi/secret", "//api//x/", "/x/%2e%2e/a%21", "/caf%c3%a9", "/a%20b%7B", "/"]) {
    const once = canonicalPath(raw);
    assert.ok(once.ok, raw);
    assert.deepEqual(canonicalPath(once.path), once, raw);
    const u = new URL("http://u.test/base");
    u.pathname = "/base" + once.path;
    assert.equal(u.pathname, "/base" + once.path, "setting it on the upstream URL changes nothing");
  }
});

test("guarded paths match at segment boundaries", () => {
  assert.ok(isGuarded("/anything", ["/"]));
  assert.ok(isGuarded("/api", ["/api"]));
  assert.ok(isGuarded("/api/x", ["/api"]));
  assert.ok(!isGuarded("/apix", ["/api"]));
  assert.ok(isGuarded("/api/", ["/api/"]));
  assert.ok(isGuarded("/api", ["/api/"]));
  assert.ok(!isGuarded("/public", ["/api", "/account/"]));
  assert.ok(!isGuarded("/API/x", ["/api"]), "case-sensitive by default");
  assert.ok(isGuarded("/API/x", ["/api"], { caseInsensitive: true }));
  assert.ok(isGuarded("/api/x", ["/Api"], { caseInsensitive: true }));
  assert.ok(!isGuarded("/APIX", ["/api"], { caseInsensitive: true }));
});

test("identity headers: x-jwtedge-* in any case, with _ for -, removed; then the verified ones set", () => {
  const h = stripIdentity(
    new Headers({
      "X-Jwtedge-Sub": "m",
      "x-jwtedge-anything": "1",
      x_jwtedge_sub: "admin",
      X_JWTEDGE_SID: "s",
      "x-jwtedge_kid": "k",
      "x_jwtedge-admin": "1",
      other: "k",
      x_jwtedgesub: "kept: no separator after the prefix",
      "x-other_header": "kept",
    }),
  );
  assert.deepEqual([...h.keys()].sort(), ["other", "x-other_header", "x_jwtedgesub"]);
  assert.ok(isIdentityHeader("X_JWTEDGE_"));
  assert.ok(!isIdentityHeader("x-jwtedge"));
  const id = identityOf({ claims: { sub: "alice", sid: "s1" }, kid: "k1" });
  assert.ok(id.ok);
  setIdentity(h, id.identity);
  assert.equal(h.get("x-jwtedge-sub"), "alice");
  assert.equal(h.get("x-jwtedge-sid"), "s1");
  assert.equal(h.get("x-jwtedge-kid"), "k1");
});

test("identity values a header would alter are refused, with the claim and a code", () => {
  for (const [value, code] of [
    [" alice", IdentityError.SURROUNDING_WHITESPACE],
    ["alice ", IdentityError.SURROUNDING_WHITESPACE],
    ["\talice", IdentityError.SURROUNDING_WHITESPACE],
    ["alice\u00a0", IdentityError.SURROUNDING_WHITESPACE],
    ["ali\nce", IdentityError.CONTROL_CHARACTER],
    ["ali\u0000ce", IdentityError.CONTROL_CHARACTER],
    ["ali\u0085ce", IdentityError.CONTROL_CHARACTER],
    ["ali\rce", IdentityError.CONTROL_CHARACTER],
    ["", IdentityError.EMPTY],
    ["a".repeat(257), IdentityError.TOO_LONG],
    ["\ud800", IdentityError.NOT_A_HEADER_VALUE],
    [42, IdentityError.NOT_A_STRING],
    [null, IdentityError.NOT_A_STRING],
    [["alice"], IdentityError.NOT_A_STRING],
  ]) {
    assert.equal(identityProblem(value), code, JSON.stringify(value));
  }
  for (const value of ["alice", "a".repeat(256), "é".repeat(256), "user@example.com", "a b", "josé", "日本"]) {
    assert.equal(identityProblem(value), undefined, value);
  }
  assert.deepEqual(identityOf({ claims: { sub: "alice", sid: "s " }, kid: "k" }), { ok: false, claim: "sid", code: IdentityError.SURROUNDING_WHITESPACE });
  assert.deepEqual(identityOf({ claims: { sub: "alice" }, kid: "k\u0001k" }), { ok: false, claim: "kid", code: IdentityError.CONTROL_CHARACTER });
  assert.deepEqual(identityOf({ claims: { sub: 7 }, kid: "k" }), { ok: false, claim: "sub", code: IdentityError.NOT_A_STRING });
  assert.deepEqual(identityOf({ claims: {}, kid: "k" }), { ok: true, identity: { kid: "k" } }, "an absent claim is no header");
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
    [{ ...good, GUARDED_PATHS: "/api%2Fx" }, "GUARDED_PATHS"],
    [{ ...good, GUARDED_PATHS: "/api?x" }, "GUARDED_PATHS"],
    [{ ...good, GUARD_CASE_INSENSITIVE: "sometimes" }, "GUARD_CASE_INSENSITIVE"],
  ]) {
    assert.throws(() => readConfig(env), new RegExp(`invalid binding ${binding}`));
  }
  const c = readConfig({ ...good, GUARDED_PATHS: "/api, /b/", ISSUER: "https://i", MIN_FRESH_SECONDS: "1" });
  assert.deepEqual(c.guardedPaths, ["/api", "/b/"]);
  assert.equal(c.verifierOptions.issuer, "https://i");
  assert.equal(c.verifierOptions.minFreshSeconds, 1);
  assert.equal(c.guardCaseInsensitive, false);
  const canonical = readConfig({ ...good, GUARDED_PATHS: "/%61pi, //b/./c/, /café", GUARD_CASE_INSENSITIVE: "true" });
  assert.deepEqual(canonical.guardedPaths, ["/api", "/b/c/", "/caf%C3%A9"], "prefixes in the form requests are judged in");
  assert.equal(canonical.guardCaseInsensitive, true);
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

test("shareable: the Age a response already has counts against its max-age", () => {
  const r = (headers) => new Response("", { headers });
  assert.equal(shareableSeconds(r({ "cache-control": "public, max-age=300", age: "100" })), 200);
  assert.equal(shareableSeconds(r({ "cache-control": "public, max-age=4", age: "4" })), 0);
  assert.equal(shareableSeconds(r({ "cache-control": "public, max-age=4", age: "junk" })), 0, "unreadable: fully aged");
  assert.equal(shareableSeconds(r({ "cache-control": "public, max-age=4", age: "0" })), 4);
});

test("secret key material: oct keys, k or d members, or a body that is not a keyset", () => {
  const enc = (v) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
  assert.equal(holdsSecretKeys(enc({ keys: [{ kty: "OKP", crv: "Ed25519", x: "abc", kid: "1" }] })), false);
  assert.equal(holdsSecretKeys(enc({ keys: [] })), false);
  assert.equal(holdsSecretKeys(enc({ keys: [{ kty: "OKP", x: "a" }, { kty: "oct", k: "c2VjcmV0", kid: "h" }] })), true);
  assert.equal(holdsSecretKeys(enc({ keys: [{ kty: "OCT-ish", k: "c2VjcmV0" }] })), true);
  assert.equal(holdsSecretKeys(enc({ keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", d: "private" }] })), true);
  assert.equal(holdsSecretKeys(enc("not json")), true);
  assert.equal(holdsSecretKeys(enc({ keys: "no" })), true);
  assert.equal(holdsSecretKeys(enc({ keys: [null] })), true);
});

test("cache layer: an HMAC keyset relabelled public is never stored, nor anything fetched with Authorization", async () => {
  const cache = memoryCache();
  const hmac = JSON.stringify({ keys: [{ kty: "oct", kid: "h1", alg: "HS256", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" }] });
  const relabelled = { "cache-control": "public, max-age=300", "content-length": String(hmac.length) };
  const publicKeys = JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", kid: "e1", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] });
  const o = origin([
    { body: hmac, headers: relabelled }, // fetched with the credential
    { body: hmac, headers: relabelled }, // an anonymous fetch gets the origin's answer, not a copy
    { body: hmac, headers: relabelled }, // no credential, still secret: not stored
    { body: publicKeys, headers: { ...relabelled, "content-length": String(publicKeys.length) } }, // with Authorization: not stored either
  ]);
  const f = cachedKeysetFetch({ cache: () => cache, fetcher: o.fetcher });
  const withCredential = await f("https://o/jwks", { headers: { authorization: "Bearer e" } });
  assert.equal(JSON.parse(await withCredential.text()).keys[0].kty, "oct", "the isolate gets its keyset");
  assert.equal(cache.map.size, 0, "not stored: fetched with Authorization");
  await f("https://o/jwks", {});
  assert.equal(o.calls.length, 2, "the anonymous fetch went to the origin");
  assert.equal(cache.map.size, 0, "not stored: it holds an oct key");
  await f("https://o/jwks", {});
  await f("https://o/jwks", { headers: { authorization: "Bearer e" } });
  assert.equal(cache.map.size, 0);
  assert.equal(f.stats.stored, 0);
  assert.equal(f.stats.notStored, 4);
  assert.equal(f.stats.hits, 0);
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
