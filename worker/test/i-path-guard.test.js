// i. Issue 8, finding 1: the guard judges the path the upstream will act on (SPEC §8 "Which path
//    is guarded"). In real workerd, against a CGI/WSGI-style upstream (Python's wsgiref, with a
//    router as lenient as upstreams get: cgi_upstream.py) that serves guarded content under /api:
//    no spelling of a guarded path gets that content without a valid token. Spellings that mean
//    the same path are judged as that path (401); spellings whose meaning depends on the upstream
//    are refused with 400 before anything else; the upstream gets exactly the path judged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { GUARDED_MARKER, rawGet, startCgiUpstream } from "./helpers/cgi-upstream.js";

let origin, upstream, edge, session;

before(async () => {
  origin = await startOrigin();
  upstream = await startCgiUpstream();
  const bindings = { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, GUARDED_PATHS: "/api" };
  edge = await startEdge({ edge: bindings, nocase: { ...bindings, GUARD_CASE_INSENSITIVE: "true" } });
  session = await origin.createSession("alice");
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

// [path as sent, expected status without a token]
const MATRIX = [
  ["/api/secret", 401], // the plain spelling, for reference
  ["/%61pi/secret", 401], // encoded unreserved: decoded, then judged
  ["/%61%70%69/%73ecret", 401],
  ["/api%2Fsecret", 400], // encoded "/"
  ["/api%2fsecret", 400],
  ["//api/x", 401], // repeated slashes merged
  ["/api;/x", 400], // raw ";": path parameters to servlet containers
  ["/api;jsessionid=1/x", 400],
  ["/api%3B/x", 400], // encoded ";"
  ["/api%5Cx", 400], // encoded "\"
  ["/x/..%2Fapi/x", 400],
  ["/x/../api/x", 401], // dot-segments resolved
  ["/x/%2e%2e/api/x", 401],
  ["/x/.%2E/api/x", 401],
  ["/%2561pi/x", 400], // encoded "%": a second decoding would make it /api
  ["/api%00/x", 400], // encoded NUL: C upstreams stop reading there
  ["/api%/x", 400], // invalid percent-encoding
  ["/api%zz/x", 400],
  ["/%C0%AFapi/x", 400], // overlong "/" (not UTF-8)
  ["/api\\x", 401], // raw "\": the URL parser reads it as "/"; judged and forwarded as /api/x
];

test("no spelling of a guarded path reaches guarded content without a token", async () => {
  const before = (await upstream.log()).length;
  for (const [path, expected] of MATRIX) {
    const res = await rawGet(edge.url, path);
    assert.ok(!res.text.includes(GUARDED_MARKER), `${path}: guarded content served without a token`);
    assert.equal(res.status, expected, `${path}: ${res.text}`);
    if (expected === 400) {
      assert.equal(res.json?.message, "bad request path", path);
      assert.equal(typeof res.json?.code, "string", path);
    } else {
      assert.deepEqual(res.json, { message: "unauthorised" }, path);
    }
  }
  const seen = (await upstream.log()).slice(before);
  assert.deepEqual(seen, [], "none of them reached the upstream");
});

test("a bad path is refused before anything else: with a valid token too, and on unguarded paths", async () => {
  const before = (await upstream.log()).length;
  const auth = { authorization: `Bearer ${session.access_token}` };
  for (const path of ["/api%2Fsecret", "/api;/x", "/public%5C..%5Capi/x", "/public/%252e%252e/api/x", "/public;x"]) {
    for (const headers of [{}, auth]) {
      const res = await rawGet(edge.url, path, headers);
      assert.equal(res.status, 400, `${path} ${Object.keys(headers)}`);
      assert.ok(!res.text.includes(GUARDED_MARKER));
    }
  }
  assert.equal((await upstream.log()).length, before, "nothing reached the upstream");
});

test("/API/x is not /api/x: matching is case-sensitive (documented), and so is this upstream", async () => {
  const res = await rawGet(edge.url, "/API/x");
  assert.equal(res.status, 200, "forwarded: not a guarded path");
  assert.equal(res.json.guarded, false);
  assert.equal(res.json.raw_uri, "/API/x");
  assert.ok(!res.text.includes(GUARDED_MARKER));
  // A deployment whose upstream routes case-insensitively says so: then /API/x is guarded.
  const guarded = await edge.fetchFrom("nocase", "/API/x");
  assert.equal(guarded.status, 401);
  const withToken = await edge.fetchFrom("nocase", "/%41pi/x", { headers: { authorization: `Bearer ${session.access_token}` } });
  assert.equal(withToken.status, 200);
  assert.equal((await withToken.json()).raw_uri, "/Api/x");
});

test("with a valid token the upstream gets exactly the path that was judged", async () => {
  const auth = { authorization: `Bearer ${session.access_token}` };
  for (const [path, judged] of [
    ["/%61pi/secret", "/api/secret"],
    ["//api//x/", "/api/x/"],
    ["/x/%2e%2e/api/./x?q=%2F&r=1", "/api/x?q=%2F&r=1"], // the query is forwarded as it came
    ["/api/caf%c3%a9", "/api/caf%C3%A9"],
    ["/api/a%21b", "/api/a!b"],
  ]) {
    const res = await rawGet(edge.url, path, auth);
    assert.equal(res.status, 200, path);
    assert.equal(res.json.raw_uri, judged, path);
    assert.equal(res.json.guarded, true, path);
    assert.equal(res.json.identity.HTTP_X_JWTEDGE_SUB, "alice");
  }
});

test("unguarded paths are forwarded canonical too", async () => {
  const res = await rawGet(edge.url, "/public/%7Euser//./x");
  assert.equal(res.status, 200);
  assert.equal(res.json.raw_uri, "/public/~user/x");
  assert.equal(res.json.guarded, false);
  // Resolving dot-segments before or after merging slashes gives different paths here (/x/api/x
  // or /api/x). The URL parser resolves first; what matters is that the upstream gets the path
  // that was judged, with no dot-segment or empty segment left to read another way.
  const ambiguous = await rawGet(edge.url, "/x//api/../..//api/x");
  assert.equal(ambiguous.status, 200);
  assert.equal(ambiguous.json.raw_uri, "/x/api/x");
  assert.equal(ambiguous.json.guarded, false);
  assert.ok(!ambiguous.text.includes(GUARDED_MARKER));
});
