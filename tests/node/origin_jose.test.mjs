// Interop: an independent JOSE implementation (the npm package `jose`) accepts the key
// origin's EdDSA, ES256 and RS256 access tokens, with `createRemoteJWKSet` pointed at a real
// `jwtedge-origin` on loopback, also across an EdDSA → ES256 migration; the ES256 and RS256 tokens
// are verified by jwtedge's own package (pkg/) as well. The binary: see ./origin.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { Verifier, verifyWithKeyset } from "jwtedge";
import { startOrigin as startOriginWith, stopOrigin } from "./origin.mjs";

const ADMIN = "jose-admin-token-5d0c2f17a3";
const API = "jose-api-key-91b7e04c2d";
const ISSUER = "https://origin.jose.test";

let child;
let base;
let dataDir;
const extraOrigins = [];

/// Starts a `jwtedge-origin serve` with the test credentials plus `env`.
const startOrigin = (env = {}) =>
  startOriginWith({ JWTEDGE_API_KEY: API, JWTEDGE_ADMIN_TOKEN: ADMIN, JWTEDGE_ISSUER: ISSUER, ...env });

before(async () => {
  const o = await startOrigin();
  ({ proc: child, url: base, dir: dataDir } = o);
});

after(async () => {
  await stopOrigin({ proc: child, dir: dataDir });
  for (const o of extraOrigins) await stopOrigin(o);
});

async function call(method, p, { auth, body } = {}, at = base) {
  const res = await fetch(at + p, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

async function newToken(sub, at = base) {
  const r = await call("POST", "/sessions", { auth: API, body: { sub, claims: { plan: "pro" } } }, at);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function keysetFetches() {
  const r = await fetch(`${base}/metrics`);
  const m = (await r.text()).match(/^jwtedge_keyset_served_total\{status="200"\} (\d+)$/m);
  return Number(m[1]);
}

const expectations = (algorithms = ["EdDSA"]) => ({
  issuer: ISSUER,
  audience: "api",
  typ: "at+jwt",
  algorithms,
  requiredClaims: ["exp", "iat", "jti", "sid", "sub"],
});

function tamper(token) {
  const [h, p, sig] = token.split(".");
  const forged = JSON.parse(Buffer.from(p, "base64url"));
  forged.sub = "admin";
  return `${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${sig}`;
}

test("jose createRemoteJWKSet accepts the origin's EdDSA tokens, across a rotation", async () => {
  const JWKS = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  const s = await newToken("alice");
  const { payload, protectedHeader } = await jose.jwtVerify(s.access_token, JWKS, expectations());
  assert.equal(protectedHeader.alg, "EdDSA");
  assert.equal(protectedHeader.typ, "at+jwt");
  assert.equal(payload.sub, "alice");
  assert.equal(payload.sid, s.session_id);
  assert.equal(payload.plan, "pro");
  assert.equal(payload.exp, s.access_token_expires_at);
  const keys = (await call("GET", "/keys", { auth: ADMIN })).json;
  assert.equal(protectedHeader.kid, keys.current);
  const fetchesBefore = await keysetFetches();
  assert.ok(fetchesBefore >= 1);

  // Rotate: the new current key was published as `next`, so jose already holds it and
  // verifies the new token without going back to the origin.
  const rotated = await call("POST", "/keys/rotate?force=true", { auth: ADMIN });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(rotated.json.current, keys.next);
  const s2 = await newToken("bob");
  const v2 = await jose.jwtVerify(s2.access_token, JWKS, expectations());
  assert.equal(v2.protectedHeader.kid, keys.next);
  assert.equal(v2.payload.sub, "bob");
  assert.equal(await keysetFetches(), fetchesBefore, "no refetch needed after a rotation");
  // The old token still verifies: its key is `previous`, still published.
  await jose.jwtVerify(s.access_token, JWKS, expectations());

  // A tampered token fails jose's signature check.
  const [h, p, sig] = s2.access_token.split(".");
  const forged = JSON.parse(Buffer.from(p, "base64url"));
  forged.sub = "admin";
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${sig}`;
  await assert.rejects(jose.jwtVerify(tampered, JWKS, expectations()), {
    code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  });
});

test("a revoked key's tokens find no key in a fresh jose keyset", async () => {
  const s = await newToken("carol");
  const { kid } = jose.decodeProtectedHeader(s.access_token);
  const r = await call("POST", `/keys/${kid}/revoke`, { auth: ADMIN });
  assert.equal(r.status, 200, r.text);
  const JWKS = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  await assert.rejects(jose.jwtVerify(s.access_token, JWKS, expectations()), {
    code: "ERR_JWKS_NO_MATCHING_KEY",
  });
  // The replacement signs at once and verifies.
  const s2 = await newToken("carol");
  const v = await jose.jwtVerify(s2.access_token, JWKS, expectations());
  assert.notEqual(v.protectedHeader.kid, kid);
});

for (const alg of ["ES256", "RS256"]) {
  test(`jose accepts the origin's ${alg} tokens from its published keyset, across a rotation`, async () => {
    const o = await startOrigin({ JWTEDGE_ALGORITHM: alg });
    extraOrigins.push(o);
    const res = await fetch(`${o.url}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const { keys } = await res.json();
    assert.equal(keys.length, 2);
    for (const jwk of keys) {
      assert.equal(jwk.alg, alg);
      assert.equal(jwk.use, "sig");
      assert.equal(jwk.kty, alg === "ES256" ? "EC" : "RSA");
      assert.equal(jwk.d, undefined);
      // jose imports it as a public key of that algorithm.
      const key = await jose.importJWK(jwk, alg);
      assert.equal(key.type, "public");
      if (alg === "RS256") assert.equal(key.algorithm.modulusLength, 2048);
      if (alg === "ES256") assert.equal(key.algorithm.namedCurve, "P-256");
    }
    const JWKS = jose.createRemoteJWKSet(new URL(`${o.url}/.well-known/jwks.json`));
    const s = await newToken("alice", o.url);
    const v = await jose.jwtVerify(s.access_token, JWKS, expectations([alg]));
    assert.equal(v.protectedHeader.alg, alg);
    assert.equal(v.payload.sub, "alice");
    assert.equal(v.payload.sid, s.session_id);
    await assert.rejects(jose.jwtVerify(tamper(s.access_token), JWKS, expectations([alg])), {
      code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    });
    // The algorithm is pinned: a verifier expecting only EdDSA refuses it.
    await assert.rejects(jose.jwtVerify(s.access_token, JWKS, expectations(["EdDSA"])), {
      code: "ERR_JOSE_ALG_NOT_ALLOWED",
    });
    // jwtedge's own package verifies them too: from the keyset text, and through a Verifier
    // that fetches the origin's keyset.
    const pkgOptions = { issuer: ISSUER, audience: "api", algorithms: [alg] };
    const fromText = await verifyWithKeyset(s.access_token, JSON.stringify({ keys }), pkgOptions);
    assert.equal(fromText.status, "OK", JSON.stringify(fromText));
    assert.equal(fromText.alg, alg);
    assert.equal(fromText.claims.sub, "alice");
    const verifier = new Verifier({ keysetUrl: `${o.url}/.well-known/jwks.json`, ...pkgOptions });
    const fetched = await verifier.verify(s.access_token);
    assert.equal(fetched.status, "OK", JSON.stringify(fetched));
    assert.equal(fetched.kid, v.protectedHeader.kid);
    assert.deepEqual(await verifier.verify(tamper(s.access_token)), {
      status: "UNAUTHORISED",
      reason: "bad_signature",
    });
    const rotated = await call("POST", "/keys/rotate?force=true", { auth: ADMIN }, o.url);
    assert.equal(rotated.status, 200, rotated.text);
    const s2 = await newToken("bob", o.url);
    const v2 = await jose.jwtVerify(s2.access_token, JWKS, expectations([alg]));
    assert.equal(v2.protectedHeader.kid, rotated.json.current);
    await jose.jwtVerify(s.access_token, JWKS, expectations([alg]));
    // The rotated-in key was published as `next` before it signed: the Verifier knows it.
    assert.equal((await verifier.verify(s2.access_token)).status, "OK");
    assert.equal((await verifier.verify(s.access_token)).status, "OK");
  });
}

test("jose follows an EdDSA → ES256 migration: old tokens keep verifying, new ones are ES256", async () => {
  const o = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: "1s" });
  extraOrigins.push(o);
  const JWKS = jose.createRemoteJWKSet(new URL(`${o.url}/.well-known/jwks.json`), {
    cooldownDuration: 0,
  });
  const both = expectations(["EdDSA", "ES256"]);
  const old = await newToken("alice", o.url);
  await jose.jwtVerify(old.access_token, JWKS, both);
  // The next key is made ES256; promoting it before one keyset max-age is refused.
  let r = await call("POST", "/keys/rotate", { auth: ADMIN, body: { algorithm: "ES256", force: true } }, o.url);
  assert.equal(r.status, 200, r.text);
  r = await call("POST", "/keys/rotate", { auth: ADMIN }, o.url);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error, "next_key_too_new");
  await new Promise((res) => setTimeout(res, 1100));
  r = await call("POST", "/keys/rotate", { auth: ADMIN }, o.url);
  assert.equal(r.status, 200, r.text);
  const fresh = await newToken("bob", o.url);
  const v = await jose.jwtVerify(fresh.access_token, JWKS, both);
  assert.equal(v.protectedHeader.alg, "ES256");
  const v0 = await jose.jwtVerify(old.access_token, JWKS, both);
  assert.equal(v0.protectedHeader.alg, "EdDSA");
  const meta = await call("GET", "/.well-known/oauth-authorization-server", {}, o.url);
  assert.equal(meta.status, 200);
  assert.deepEqual(meta.json.access_token_signing_alg_values_supported, ["EdDSA", "ES256"]);
  assert.equal(meta.json.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
});
