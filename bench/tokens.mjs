// The benchmark's realistic access tokens (~350 bytes: kid, typ, iss, sub, aud, iat, exp, sid,
// a scope string), minted with jose so no contender verifies its own output.
import { randomBytes } from "node:crypto";
import * as jose from "jose";

import { ISS, AUD } from "./tokens-const.mjs";
export { ISS, AUD };

export async function makeKeys() {
  const secret = randomBytes(32);
  const hsJwk = { kty: "oct", k: jose.base64url.encode(secret), kid: "hs-2026-11", alg: "HS256", use: "sig" };
  const ed = await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const edJwk = { ...(await jose.exportJWK(ed.publicKey)), kid: "ed-2026-11", alg: "EdDSA", use: "sig" };
  const edPem = await jose.exportSPKI(ed.publicKey);
  const out = {
    HS256: { alg: "HS256", secret, jwk: hsJwk, signingKey: secret, verifyPem: null },
    EdDSA: { alg: "EdDSA", jwk: edJwk, signingKey: ed.privateKey, verifyPem: edPem, publicKey: ed.publicKey },
  };
  // RSA 2048 (what Auth0, Okta, Cognito and Firebase publish) and P-256, checked by the runtime's
  // own crypto in every contender.
  for (const [alg, kid, opts] of [["RS256", "rs-2026-11", { modulusLength: 2048 }], ["ES256", "es-2026-11", {}]]) {
    const pair = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid, alg, use: "sig" };
    out[alg] = { alg, jwk, signingKey: pair.privateKey, verifyPem: await jose.exportSPKI(pair.publicKey), publicKey: pair.publicKey };
  }
  return out;
}

/// Every algorithm the benchmark compares, in table order.
export const ALGS = ["HS256", "EdDSA", "RS256", "ES256"];

export async function makeTokens(key, count) {
  const now = Math.floor(Date.now() / 1000);
  const tokens = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      // Shaped like the origin's tokens: 22-character random ids, a session id, a scope string.
      await new jose.SignJWT({
        sid: `s_${randomBytes(16).toString("base64url")}`,
        scope: "openid profile orders:read orders:write",
      })
        .setProtectedHeader({ alg: key.alg, kid: key.jwk.kid, typ: "at+jwt" })
        .setIssuer(ISS)
        .setSubject(`user-${100000 + i}`)
        .setAudience(AUD)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .setJti(randomBytes(16).toString("base64url"))
        .sign(key.signingKey),
    );
  }
  return tokens;
}

export function tamper(token) {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  claims.sub = "admin";
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
}
