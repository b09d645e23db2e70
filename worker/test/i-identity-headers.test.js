// i. Issue 8, findings 2 and 3, in real workerd against a CGI/WSGI-style upstream (Python's
//    wsgiref: `x_jwtedge_sub` and `x-jwtedge-sub` are both HTTP_X_JWTEDGE_SUB there).
//    2. Header smuggling: an `x_jwtedge_*` header never reaches the upstream — alone on an
//       unguarded path, nor beside a valid token (where wsgiref would join it: "alice,admin").
//    3. Identity collision: a verified token from another issuer whose sub/sid/kid a header would
//       alter (" alice", "alice ", control characters, over 256 characters, not a string) is
//       refused with 401 and logged, so no two identities reach the upstream as one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./helpers/edge.js";
import { startOrigin } from "./helpers/origin.js";
import { rawGet, startCgiUpstream } from "./helpers/cgi-upstream.js";
import { startTestIssuer } from "./helpers/issuer.js";

let origin, issuer, upstream, edge, session;

before(async () => {
  origin = await startOrigin();
  issuer = await startTestIssuer();
  upstream = await startCgiUpstream();
  edge = await startEdge(
    {
      edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, GUARDED_PATHS: "/api" },
      other: { KEYSET_URL: issuer.keysetUrl, UPSTREAM_URL: upstream.url, ISSUER: issuer.url, AUDIENCE: "api" },
    },
    { captureLogs: true },
  );
  session = await origin.createSession("alice");
});

after(async () => {
  await edge?.dispose();
  await upstream?.close();
  await issuer?.close();
  await origin?.cleanup();
});

const SMUGGLED = {
  x_jwtedge_sub: "admin",
  X_JWTEDGE_SID: "forged-session",
  "x-jwtedge_kid": "forged-kid",
  "x_jwtedge-role": "admin",
};

test("x_jwtedge_* headers never reach a CGI upstream on an unguarded path", async () => {
  for (const [name, value] of Object.entries(SMUGGLED)) {
    const res = await rawGet(edge.url, "/public", { [name]: value });
    assert.equal(res.status, 200, name);
    assert.deepEqual(res.json.identity, {}, `${name} reached the upstream as ${JSON.stringify(res.json.identity)}`);
  }
  const all = await rawGet(edge.url, "/public", SMUGGLED);
  assert.deepEqual(all.json.identity, {});
});

test("beside a valid token, the upstream sees only the verified identity", async () => {
  const res = await rawGet(edge.url, "/api/me", { authorization: `Bearer ${session.access_token}`, ...SMUGGLED });
  assert.equal(res.status, 200);
  assert.equal(res.json.guarded, true);
  assert.equal(res.json.identity.HTTP_X_JWTEDGE_SUB, "alice", "not alice,admin");
  assert.equal(res.json.identity.HTTP_X_JWTEDGE_SID, session.session_id);
  assert.notEqual(res.json.identity.HTTP_X_JWTEDGE_KID, "forged-kid");
  assert.deepEqual(Object.keys(res.json.identity).sort(), ["HTTP_X_JWTEDGE_KID", "HTTP_X_JWTEDGE_SID", "HTTP_X_JWTEDGE_SUB"]);
});

const viaOther = (token) => edge.fetchFrom("other", "/api/me", { headers: { authorization: `Bearer ${token}` } });

test("another issuer's token with a plain identity passes (the control)", async () => {
  const res = await viaOther(issuer.token({ sub: "alice", sid: "s-1" }));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.identity.HTTP_X_JWTEDGE_SUB, "alice");
  assert.equal(body.identity.HTTP_X_JWTEDGE_SID, "s-1");
  assert.equal(body.identity.HTTP_X_JWTEDGE_KID, issuer.kid);
  // Non-ASCII is not altered: workerd sends it as UTF-8 (wsgiref reads header bytes as Latin-1),
  // so "josé" and "josÃ©" stay two identities.
  for (const sub of ["josé", "josÃ©", "日本"]) {
    const unicode = await viaOther(issuer.token({ sub }));
    assert.equal(unicode.status, 200, sub);
    const seen = (await unicode.json()).identity.HTTP_X_JWTEDGE_SUB;
    assert.equal(Buffer.from(seen, "latin1").toString("utf8"), sub, `${sub} arrived as ${JSON.stringify(seen)}`);
  }
});

test("identity values a header would alter are refused with 401, logged, and never forwarded", async () => {
  const cases = [
    ["sub with a leading space", { sub: " alice" }, "sub surrounding_whitespace"],
    ["sub with a trailing space", { sub: "alice " }, "sub surrounding_whitespace"],
    ["sub with a trailing tab", { sub: "alice\t" }, "sub surrounding_whitespace"],
    ["sub with a NUL", { sub: "ali\u0000ce" }, "sub control_character"],
    ["sub with a line feed", { sub: "alice\nx-jwtedge-role: admin" }, "sub control_character"],
    ["sub with a control character", { sub: "ali\u0007ce" }, "sub control_character"],
    ["sub over 256 characters", { sub: "a".repeat(257) }, "sub too_long"],
    ["sub empty", { sub: "" }, "sub empty"],
    ["sub a number", { sub: 42 }, null], // the verifier refuses it already (a claim of the wrong type)
    ["sid with a trailing space", { sub: "alice", sid: "s-1 " }, "sid surrounding_whitespace"],
  ];
  const before = (await upstream.log()).length;
  for (const [name, claims, logged] of cases) {
    const logsBefore = edge.logs.length;
    const res = await viaOther(issuer.token(claims));
    assert.equal(res.status, 401, name);
    assert.deepEqual(await res.json(), { message: "unauthorised" }, name);
    const pattern = new RegExp(`refused a verified token: ${logged}`);
    const lines = await edge.logsMatching(pattern, { from: logsBefore, timeoutMs: logged ? 3_000 : 0 });
    if (logged) assert.match(lines, pattern, name);
    assert.ok(!lines.includes("alice"), `${name}: the value itself is not logged`);
  }
  assert.equal((await upstream.log()).length, before, "none reached the upstream");
});

test("a kid a header would alter is refused too", async () => {
  const spaced = await startTestIssuer({ kid: "key-1 " });
  const other = await startEdge(
    { spaced: { KEYSET_URL: spaced.keysetUrl, UPSTREAM_URL: upstream.url } },
    { captureLogs: true },
  );
  try {
    const before = (await upstream.log()).length;
    const res = await fetch(`${other.url}/api/me`, { headers: { authorization: `Bearer ${spaced.token({ sub: "alice" })}` } });
    assert.equal(res.status, 401);
    const pattern = /refused a verified token: kid surrounding_whitespace/;
    assert.match(await other.logsMatching(pattern), pattern);
    assert.equal((await upstream.log()).length, before);
  } finally {
    await other.dispose();
    await spaced.close();
  }
});
