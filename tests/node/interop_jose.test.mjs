// pkg/ imported the way a user imports it, verifying tokens minted by `jose` (HS256 and EdDSA)
// through both verifyWithKeyset and a Verifier that fetches its keyset over HTTP.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Verifier, verifyWithKeyset } from "jwtedge";
import { ISS, edKey, hsKey, jwksOf, mint, tamper, keysetServer, now } from "./helpers.mjs";

const ed = await edKey("ed-1");
const hs = hsKey("hs-1");
const stranger = await edKey("ed-1"); // same kid, key not in the keyset
const gone = await edKey("ed-gone");
const jwks = jwksOf(ed, hs);
const server = await keysetServer(jwks);
const serverHs = await keysetServer(jwksOf(hs), {
  handler: (req, res) => {
    if (req.headers.authorization === "Bearer edge-secret") return false;
    res.writeHead(401).end();
  },
});
after(() => Promise.all([server.close(), serverHs.close()]));

const expectations = { issuer: ISS, audience: "api" };
const verifier = new Verifier({ keysetUrl: server.url, ...expectations });

async function both(token) {
  const sync = verifyWithKeyset(token, jwks, expectations);
  const viaFetch = await verifier.verify(token);
  assert.deepEqual(viaFetch, sync, "Verifier and verifyWithKeyset agree");
  return sync;
}

for (const key of [ed, hs]) {
  test(`${key.alg}: a valid jose token is OK with its claims, kid and alg`, async () => {
    const out = await both(await mint(key, { claims: { role: "admin" } }));
    assert.equal(out.status, "OK");
    assert.equal(out.kid, key.kid);
    assert.equal(out.alg, key.alg);
    assert.equal(out.claims.sub, "user-1");
    assert.equal(out.claims.role, "admin");
    assert.equal(out.claims.iss, ISS);
  });

  test(`${key.alg}: expired is TRY_REFRESH_TOKEN/expired`, async () => {
    const out = await both(await mint(key, { exp: now() - 10 }));
    assert.deepEqual(out, { status: "TRY_REFRESH_TOKEN", reason: "expired" });
  });

  test(`${key.alg}: tampered claims are UNAUTHORISED/bad_signature`, async () => {
    const out = await both(tamper(await mint(key), { sub: "admin" }));
    assert.deepEqual(out, { status: "UNAUTHORISED", reason: "bad_signature" });
  });

  test(`${key.alg}: wrong issuer and audience are UNAUTHORISED`, async () => {
    assert.deepEqual(await both(await mint(key, { claims: { iss: "https://evil.example" } })), {
      status: "UNAUTHORISED",
      reason: "invalid_issuer",
    });
    assert.deepEqual(await both(await mint(key, { claims: { aud: "billing" } })), {
      status: "UNAUTHORISED",
      reason: "invalid_audience",
    });
    // Expired *and* for another audience: unauthorised, never "try refresh".
    assert.deepEqual(await both(await mint(key, { claims: { aud: "billing" }, exp: now() - 10 })), {
      status: "UNAUTHORISED",
      reason: "invalid_audience",
    });
  });
}

test("unknown kid is TRY_REFRESH_TOKEN/unknown_key", async () => {
  const out = await both(await mint(gone));
  assert.deepEqual(out, { status: "TRY_REFRESH_TOKEN", reason: "unknown_key" });
});

test("a key not in the keyset under a known kid is bad_signature", async () => {
  assert.deepEqual(await both(await mint(stranger)), { status: "UNAUTHORISED", reason: "bad_signature" });
});

test("RFC 7515 Appendix A.1 verifies under a clock override", () => {
  const token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const key = {
    kty: "oct",
    k: "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
  };
  const out = verifyWithKeyset(token, { keys: [key] }, { nowSeconds: 1300819370 });
  assert.equal(out.status, "OK");
  assert.deepEqual(out.claims, { iss: "joe", exp: 1300819380, "http://example.com/is_root": true });
  assert.deepEqual(verifyWithKeyset(token, { keys: [key] }, { nowSeconds: 1300819380 }), {
    status: "TRY_REFRESH_TOKEN",
    reason: "expired",
  });
  // Without the override, the real clock says it expired in 2011.
  assert.equal(verifyWithKeyset(token, { keys: [key] }).reason, "expired");
});

test("an HMAC keyset is read with keysetAuthorization; without it the keyset is unavailable", async () => {
  const token = await mint(hs);
  const withCredential = new Verifier({ keysetUrl: serverHs.url, keysetAuthorization: "Bearer edge-secret" });
  assert.equal((await withCredential.verify(token)).status, "OK");
  const without = new Verifier({ keysetUrl: serverHs.url });
  assert.deepEqual(await without.verify(token), { status: "KEYSET_UNAVAILABLE", reason: "fetch_failed" });
});

test("bad options throw a TypeError naming the option, at construction", () => {
  assert.throws(() => new Verifier({ keysetUrl: server.url, leewaySecond: 5 }), { name: "TypeError", message: /leewaySecond/ });
  assert.throws(() => new Verifier({ keysetUrl: server.url, issuer: 42 }), { name: "TypeError", message: /issuer/ });
  assert.throws(() => new Verifier({}), { name: "TypeError", message: /keysetUrl/ });
  assert.throws(() => verifyWithKeyset("x", jwks, { nowSeconds: "now" }), { name: "TypeError", message: /nowSeconds/ });
});

test("EdDSA: the WebCrypto and wasm signature checks reach the same verdicts", async () => {
  const valid = await mint(ed);
  const [h, p, sig] = valid.split(".");
  const raw = Buffer.from(sig, "base64url");
  // S + L: the same signature, non-canonical (malleated); both checks must refuse it.
  const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = raw[32 + i] + L[i] + carry;
    raw[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  const malleated = `${h}.${p}.${raw.toString("base64url")}`;
  const cases = [
    [valid, "OK"],
    [tamper(valid, { sub: "admin" }), "bad_signature"],
    [malleated, "bad_signature"],
    [await mint(stranger), "bad_signature"],
    [await mint(ed, { exp: now() - 10 }), "expired"],
    [await mint(ed, { claims: { aud: "billing" } }), "invalid_audience"],
  ];
  for (const backend of ["webcrypto", "wasm"]) {
    const v = new Verifier({ keysetUrl: server.url, ed25519: backend, ...expectations });
    for (const [token, expected] of cases) {
      const out = await v.verify(token);
      assert.equal(out.status === "OK" ? "OK" : out.reason, expected, `${backend}: ${expected}`);
    }
  }
  assert.throws(() => new Verifier({ keysetUrl: server.url, ed25519: "fast" }), { name: "TypeError", message: /ed25519/ });
});

test("EdDSA with ed25519: webcrypto falls back to the wasm check where WebCrypto has no Ed25519", async () => {
  const subtle = globalThis.crypto.subtle;
  const original = subtle.verify;
  let refused = 0;
  // Stand-in for a runtime without Ed25519 in WebCrypto.
  subtle.verify = async (algorithm, ...rest) => {
    if ((algorithm?.name ?? algorithm) === "Ed25519") {
      refused++;
      throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
    }
    return original.call(subtle, algorithm, ...rest);
  };
  try {
    const v = new Verifier({ keysetUrl: server.url, ed25519: "webcrypto", ...expectations });
    const valid = await mint(ed);
    assert.equal((await v.verify(valid)).status, "OK");
    assert.deepEqual(await v.verify(tamper(valid, { sub: "admin" })), { status: "UNAUTHORISED", reason: "bad_signature" });
    assert.ok(refused >= 2, "WebCrypto was asked first");
  } finally {
    subtle.verify = original;
  }
});
