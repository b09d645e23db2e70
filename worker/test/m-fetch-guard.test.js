// m. jwtedge/fetch (js/fetch.js) in real workerd, in a minimal Worker as a package user writes it
// (helpers/guard-probe.js), against a loopback issuer: each outcome status → its Response (status,
// body, headers exactly as the guard worker answers), the claims returned when the token
// verifies, the token from Authorization vs the configured cookie, onOutcome, bad options.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import { WORKER_DIR, startEdge } from "./helpers/edge.js";
import { startTestIssuer } from "./helpers/issuer.js";
import { decode, signWithStrangerKey } from "./helpers/jws.js";

let issuer, edge, deadKeysetUrl;

/** A loopback URL nothing listens on (a port just freed). */
async function deadUrl() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

before(async () => {
  issuer = await startTestIssuer();
  deadKeysetUrl = await deadUrl();
  edge = await startEdge(
    {
      plain: { KEYSET_URL: issuer.keysetUrl, ISSUER: issuer.url },
      cookie: { KEYSET_URL: issuer.keysetUrl, ISSUER: issuer.url, TOKEN_COOKIE: "at" },
      dead: { KEYSET_URL: deadKeysetUrl, ISSUER: issuer.url },
    },
    { scriptPath: join(WORKER_DIR, "test", "helpers", "guard-probe.js") },
  );
});

after(async () => {
  await edge?.dispose();
  await issuer?.close();
});

const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function send(worker, headers) {
  const res = await edge.fetchFrom(worker, "/anything", { headers });
  const body = await res.text();
  const outcomes = res.headers.has("x-test-outcomes") ? JSON.parse(res.headers.get("x-test-outcomes")) : undefined;
  return { res, body, outcomes };
}

/** A rejection exactly as SPEC §8 / worker/src answer it. */
function assertRejection({ res, body }, status, message, header) {
  assert.equal(res.status, status, body);
  assert.deepEqual(JSON.parse(body), { message });
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("cache-control"), "no-store");
  for (const [name, value] of Object.entries(header)) assert.equal(res.headers.get(name), value, name);
}
const unauthorised = (r) => assertRejection(r, 401, "unauthorised", { "www-authenticate": "Bearer" });
const tryRefresh = (r) =>
  assertRejection(r, 401, "try refresh token", { "www-authenticate": 'Bearer error="invalid_token"' });

test("OK: guard resolves to the verified claims; onOutcome sees the whole outcome", async () => {
  const token = issuer.token({ sub: "alice", sid: "s-1", roles: ["reader"], nested: { a: 1 } });
  const { res, body } = await send("plain", bearer(token));
  assert.equal(res.status, 200, body);
  const { claims, outcomes } = JSON.parse(body);
  assert.deepEqual(claims, decode(token).claims);
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0].status, "OK");
  assert.equal(outcomes[0].kid, issuer.kid);
  assert.equal(outcomes[0].alg, "EdDSA");
  assert.deepEqual(outcomes[0].claims, claims);
});

test("TRY_REFRESH_TOKEN: 401 try refresh token, WWW-Authenticate invalid_token", async () => {
  const now = Math.floor(Date.now() / 1000);
  const r = await send("plain", bearer(issuer.token({ sub: "alice", iat: now - 120, exp: now - 60 })));
  tryRefresh(r);
  assert.deepEqual(r.outcomes, [{ status: "TRY_REFRESH_TOKEN", reason: "expired" }]);
});

test("UNAUTHORISED: 401 unauthorised for a forged, a mis-addressed or a malformed token", async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer.url, aud: "api", sub: "mallory", iat: now, exp: now + 600 };
  const cases = [
    [signWithStrangerKey({ alg: "EdDSA", kid: issuer.kid }, claims), "bad_signature"],
    [issuer.token({ sub: "alice", aud: "another-api" }), "invalid_audience"],
    ["not-a-token", "malformed"],
  ];
  for (const [token, reason] of cases) {
    const r = await send("plain", bearer(token));
    unauthorised(r);
    assert.deepEqual(r.outcomes, [{ status: "UNAUTHORISED", reason }], reason);
  }
});

test("KEYSET_UNAVAILABLE: 503 keyset unavailable with Retry-After", async () => {
  const r = await send("dead", bearer(issuer.token({ sub: "alice" })));
  assertRejection(r, 503, "keyset unavailable", { "retry-after": "5" });
  assert.deepEqual(r.outcomes, [{ status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" }]);
});

test("no token: 401 unauthorised without asking the verifier", async () => {
  for (const headers of [{}, { authorization: "Bearer" }, { authorization: "Basic YTpi" }, { authorization: "Bearer a b" }]) {
    const r = await send("plain", headers);
    unauthorised(r);
    assert.deepEqual(r.outcomes, [], JSON.stringify(headers));
  }
});

test("cookie: read only when configured and when there is no Authorization header at all", async () => {
  const good = issuer.token({ sub: "cookie-user" });
  // Configured: the cookie alone is enough (quoted or not, among others).
  for (const cookie of [`at=${good}`, `theme=dark; at="${good}"; x=1`]) {
    const { res, body } = await send("cookie", { cookie });
    assert.equal(res.status, 200, body);
    assert.equal(JSON.parse(body).claims.sub, "cookie-user");
  }
  // Authorization wins over the cookie, whichever is valid.
  const bearerUser = issuer.token({ sub: "bearer-user" });
  const both = await send("cookie", { ...bearer(bearerUser), cookie: "at=garbage" });
  assert.equal(both.res.status, 200, both.body);
  assert.equal(JSON.parse(both.body).claims.sub, "bearer-user");
  const expired = issuer.token({ sub: "x", exp: Math.floor(Date.now() / 1000) - 60 });
  tryRefresh(await send("cookie", { ...bearer(expired), cookie: `at=${good}` }));
  // Another scheme, or a malformed Bearer, is 401: the cookie beside it is not looked at. (An
  // empty Authorization header does not survive the HTTP hop into workerd; unit.test.js has it.)
  for (const authorization of ["Basic YTpi", "Bearer", "Bearer a b"]) {
    const r = await send("cookie", { authorization, cookie: `at=${good}` });
    unauthorised(r);
    assert.deepEqual(r.outcomes, [], authorization);
  }
  // Another cookie name, or no tokenCookie option: no token.
  unauthorised(await send("cookie", { cookie: `token=${good}` }));
  unauthorised(await send("plain", { cookie: `at=${good}` }));
});

test("each answer is a fresh Response (two rejections in a row both have their body)", async () => {
  unauthorised(await send("plain", {}));
  unauthorised(await send("plain", {}));
});

test("bad options reject with a TypeError naming the option; good ones pass", async () => {
  const call = async (options) => {
    const res = await edge.fetchFrom("plain", "/__test/options", {
      method: "POST",
      headers: bearer(issuer.token({ sub: "alice" })),
      body: JSON.stringify(options),
    });
    return res.json();
  };
  assert.match((await call({ tokenCokie: "at" })).error, /^TypeError: .*unknown guard option "tokenCokie"/);
  assert.match((await call({ tokenCookie: 42 })).error, /^TypeError: .*tokenCookie/);
  assert.match((await call({ tokenCookie: "a b" })).error, /^TypeError: .*tokenCookie/);
  assert.match((await call({ onOutcome: "log" })).error, /^TypeError: .*onOutcome/);
  assert.equal((await call({ tokenCookie: "at" })).claims?.sub, "alice");
  assert.equal((await call({})).claims?.sub, "alice");
});
