// a. A session's access token passes a guarded route; the upstream sees the verified sub and sid;
//    client-sent x-jwtedge-* headers are stripped; no token → 401. Also: the cookie, unguarded
//    paths, and a bad configuration answering a generic 500 and logging the binding.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { waitFor } from "./helpers/wait.js";

let origin, upstream, edge, session;

before(async () => {
  origin = await startOrigin();
  upstream = await startUpstream();
  edge = await startEdge({
    edge: {
      KEYSET_URL: origin.keysetUrl,
      UPSTREAM_URL: upstream.url,
      GUARDED_PATHS: "/api, /account/",
      ISSUER: origin.url,
      AUDIENCE: "api",
      TOKEN_COOKIE: "at",
    },
    broken: { KEYSET_URL: "ftp://nope", UPSTREAM_URL: upstream.url },
  }, { captureLogs: true });
  session = await origin.createSession("alice", { role: "reader" });
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

test("a valid access token reaches the upstream with the verified sub, sid and kid", async () => {
  const before = upstream.requests.length;
  const res = await fetch(`${edge.url}/api/profile?x=1`, {
    headers: {
      authorization: `Bearer ${session.access_token}`,
      "x-jwtedge-sub": "mallory",
      "X-JWTEDGE-SID": "forged-session",
      "x-jwtedge-admin": "true",
    },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.path, "/api/profile?x=1");
  assert.equal(upstream.requests.length, before + 1);
  const seen = upstream.requests.at(-1).headers;
  assert.equal(seen["x-jwtedge-sub"], "alice");
  assert.equal(seen["x-jwtedge-sid"], session.session_id);
  assert.equal(seen["x-jwtedge-kid"], kidOf(session.access_token));
  assert.equal(seen["x-jwtedge-admin"], undefined, "every client x-jwtedge-* header is stripped");
  assert.deepEqual(
    Object.keys(seen).filter((k) => k.startsWith("x-jwtedge-")).sort(),
    ["x-jwtedge-kid", "x-jwtedge-sid", "x-jwtedge-sub"],
  );
});

test("no token on a guarded path: 401 unauthorised, nothing reaches the upstream", async () => {
  const before = upstream.requests.length;
  for (const path of ["/api", "/api/x", "/account/settings"]) {
    const res = await fetch(`${edge.url}${path}`, { headers: { "x-jwtedge-sub": "alice" } });
    assert.equal(res.status, 401, path);
    assert.deepEqual(await res.json(), { message: "unauthorised" });
  }
  const basic = await fetch(`${edge.url}/api/x`, { headers: { authorization: "Basic YTpi" } });
  assert.equal(basic.status, 401);
  assert.equal(upstream.requests.length, before);
});

test("the token may come from the configured cookie", async () => {
  const res = await fetch(`${edge.url}/api/cookie`, {
    headers: { cookie: `theme=dark; at=${session.access_token}; other=1` },
  });
  assert.equal(res.status, 200);
  assert.equal(upstream.requests.at(-1).headers["x-jwtedge-sub"], "alice");
  const wrongCookie = await fetch(`${edge.url}/api/cookie`, { headers: { cookie: `token=${session.access_token}` } });
  assert.equal(wrongCookie.status, 401);
});

test("unguarded paths pass without a token, with client identity headers stripped", async () => {
  const res = await fetch(`${edge.url}/apix/public`, { headers: { "x-jwtedge-sub": "mallory" } });
  assert.equal(res.status, 200);
  const seen = upstream.requests.at(-1);
  assert.equal(seen.path, "/apix/public");
  assert.equal(seen.headers["x-jwtedge-sub"], undefined);
});

test("an expectation not met (audience) is 401 unauthorised", async () => {
  const other = await startEdge({
    edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, AUDIENCE: "someone-else" },
  });
  try {
    const res = await fetch(`${other.url}/`, { headers: { authorization: `Bearer ${session.access_token}` } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { message: "unauthorised" });
  } finally {
    await other.dispose();
  }
});

test("a bad binding is a generic 500; the log names it", async () => {
  const res = await edge.fetchFrom("broken", "/api");
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { message: "internal error" });
  assert.match(await edge.logsMatching(/invalid binding KEYSET_URL/), /invalid binding KEYSET_URL/);
});

test("an expired access token is 401 try refresh token; the refreshed one passes", async () => {
  // 3 s, not 1: `exp` is whole seconds, so a 1 s token minted late in a second lives only a few
  // milliseconds, less than a request takes on a loaded machine.
  const shortLived = await startOrigin({ JWTEDGE_ACCESS_TOKEN_TTL: "3s" });
  const edge2 = await startEdge({ edge: { KEYSET_URL: shortLived.keysetUrl, UPSTREAM_URL: upstream.url } });
  try {
    const send = (t) => fetch(`${edge2.url}/x`, { headers: { authorization: `Bearer ${t}` } });
    // The isolate holds the keyset before the token under test is minted: its first request is quick.
    assert.equal((await send((await shortLived.createSession("warm-up")).access_token)).status, 200);
    const s = await shortLived.createSession("carol");
    assert.equal((await send(s.access_token)).status, 200);
    const res = await waitFor(async () => {
      const r = await send(s.access_token);
      return r.status === 401 ? r : false;
    }, { timeoutMs: 8_000, intervalMs: 200, what: "the token to expire" });
    assert.deepEqual(await res.json(), { message: "try refresh token" });
    const refreshed = await shortLived.refresh(s.refresh_token);
    assert.equal(refreshed.status, 200);
    assert.equal((await send(refreshed.json.access_token)).status, 200);
  } finally {
    await edge2.dispose();
    await shortLived.cleanup();
  }
});
