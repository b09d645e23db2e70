// RSA/ECDSA keys are imported into node:crypto once per keyset version and dropped with it
// (SPEC §3a): node:crypto is handed to pkg/ by its Node entry under a registry symbol; this test
// hands over a counting copy first (the entry keeps one already there).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import * as jose from "jose";

const imports = [];
globalThis[Symbol.for("jwtedge.node:crypto")] = {
  ...nodeCrypto,
  createPublicKey(input) {
    imports.push(input.key.kid ?? input.key.n?.slice(0, 8) ?? input.key.x);
    return nodeCrypto.createPublicKey(input);
  },
};
const { verifyWithKeyset, Verifier } = await import("jwtedge");

async function rsa(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "RS256" };
  const mint = () => new jose.SignJWT({ sub: "u", exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: "RS256", kid }).sign(privateKey);
  return { jwk, mint };
}

test("one import per key per keyset version; a new keyset imports again", async () => {
  const a = await rsa("a");
  const b = await rsa("b");
  const first = JSON.stringify({ keys: [a.jwk, b.jwk] });
  for (let i = 0; i < 5; i++) assert.equal(verifyWithKeyset(await a.mint(), first).status, "OK");
  assert.equal(imports.length, 1, "key a imported once for five verifications");
  assert.equal(verifyWithKeyset(await b.mint(), first).status, "OK");
  assert.equal(imports.length, 2, "key b imported on its first use");
  // Another keyset (a rotation): its keys are imported anew, the old table is gone.
  const second = JSON.stringify({ keys: [b.jwk] });
  assert.equal(verifyWithKeyset(await b.mint(), second).status, "OK");
  assert.equal(imports.length, 3);
  assert.equal(verifyWithKeyset(await b.mint(), second).status, "OK");
  assert.equal(imports.length, 3);
});

test("a keyset passed as an object is recognised by its content: no import per call", async () => {
  const a = await rsa("o");
  const jwks = { keys: [a.jwk] };
  const before = imports.length;
  for (let i = 0; i < 4; i++) assert.equal(verifyWithKeyset(await a.mint(), structuredClone(jwks)).status, "OK");
  assert.equal(imports.length, before + 1);
});

test("a key node:crypto refuses (a point off the curve) verifies nothing, and is not retried", async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: "e" };
  const bent = { ...jwk, y: jose.base64url.encode(new Uint8Array(32).fill(1)) };
  const token = await new jose.SignJWT({ exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: "ES256", kid: "e" }).sign(privateKey);
  const jwks = JSON.stringify({ keys: [bent] });
  const before = imports.length;
  assert.deepEqual(verifyWithKeyset(token, jwks), { status: "UNAUTHORISED", reason: "bad_signature" });
  assert.deepEqual(verifyWithKeyset(token, jwks), { status: "UNAUTHORISED", reason: "bad_signature" });
  assert.equal(imports.length, before + 1, "the refused import is remembered for this keyset");
  assert.equal(verifyWithKeyset(token, JSON.stringify({ keys: [jwk] })).status, "OK");
});

test("a Verifier keeps its keys per keyset version too", async () => {
  const a = await rsa("v");
  const verifier = new Verifier({ keysetUrl: `data:application/json,${encodeURIComponent(JSON.stringify({ keys: [a.jwk] }))}` });
  const before = imports.length;
  for (let i = 0; i < 3; i++) assert.equal((await verifier.verify(await a.mint())).status, "OK");
  assert.equal(imports.length, before + 1);
});
