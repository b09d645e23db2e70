// i. Issue 8, finding 5. TOKEN_COOKIE is read only when the request has no Authorization header
//    at all (SPEC §8): an Authorization of another scheme beside a valid cookie is unauthorised.
//    A misconfigured worker answers a generic 500 and logs the detail, telling clients nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";

let origin, upstream, edge, session;

before(async () => {
  origin = await startOrigin();
  upstream = await startUpstream();
  edge = await startEdge(
    {
      edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, TOKEN_COOKIE: "at" },
      badurl: { KEYSET_URL: "ftp://internal.example/jwks", UPSTREAM_URL: upstream.url },
      badsecret: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, KEYSET_AUTHORIZATION: "s3cr3t-edge-credential" },
    },
    { captureLogs: true },
  );
  session = await origin.createSession("alice");
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

test("the cookie is the token only when there is no Authorization header at all", async () => {
  const cookie = `at=${session.access_token}`;
  const ok = await fetch(`${edge.url}/x`, { headers: { cookie } });
  assert.equal(ok.status, 200, "cookie alone: read");
  const before = upstream.requests.length;
  for (const authorization of ["Basic YWxpY2U6cHc=", "Digest username=alice", "Bearer", "Token abc"]) {
    const res = await fetch(`${edge.url}/x`, { headers: { cookie, authorization } });
    assert.equal(res.status, 401, authorization);
    assert.deepEqual(await res.json(), { message: "unauthorised" }, authorization);
  }
  assert.equal(upstream.requests.length, before, "none reached the upstream");
  const bearer = await fetch(`${edge.url}/x`, { headers: { cookie: "at=garbage", authorization: `Bearer ${session.access_token}` } });
  assert.equal(bearer.status, 200, "a Bearer header is the token, the cookie ignored");
});

test("a misconfigured worker answers a generic 500 and logs the detail", async () => {
  for (const [name, binding, hidden] of [
    ["badurl", "KEYSET_URL", "internal.example"],
    ["badsecret", "KEYSET_AUTHORIZATION", "s3cr3t"],
  ]) {
    const logsBefore = edge.logs.length;
    const res = await edge.fetchFrom(name, "/x");
    assert.equal(res.status, 500, name);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), { message: "internal error" }, name);
    assert.ok(!text.includes(binding) && !text.includes(hidden), `${name}: nothing about the configuration in the answer`);
    const pattern = new RegExp(`invalid binding ${binding}`);
    const logged = await edge.logsMatching(pattern, { from: logsBefore });
    assert.match(logged, pattern, `${name}: the detail is logged`);
    assert.ok(!logged.includes("s3cr3t"), `${name}: a secret binding's value is not logged`);
  }
});
