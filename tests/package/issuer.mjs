// The issuer the README examples talk to: they are written for
// https://auth.example.com/.well-known/jwks.json, and each harness answers that URL from here
// (workerd: miniflare's outboundService; Chromium: a Playwright route; Node: a fetch hook loaded
// with --import). An Ed25519 key made per run with jose, its JWKS, and tokens signed with it.
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export const ISSUER = "https://auth.example.com";
export const KEYSET_URL = `${ISSUER}/.well-known/jwks.json`;
export const AUDIENCE = "api";

export async function makeIssuer() {
  const kid = `k-${Date.now().toString(36)}`;
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  const jwks = JSON.stringify({ keys: [jwk] });
  // A key of the same kid that did not sign: tokens it "signs" are bad_signature.
  const other = await generateKeyPair("EdDSA", { crv: "Ed25519" });

  async function sign({ sub = "alice", expiresIn = 600, key = privateKey, ...extra } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: "s-1", ...extra })
      .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(now - 5)
      .setExpirationTime(now + expiresIn)
      .sign(key);
  }

  return {
    kid,
    jwks,
    /** A good token for `sub`. */
    token: (sub = "alice") => sign({ sub }),
    /** A token that expired a minute ago (every other check passes). */
    expiredToken: (sub = "alice") => sign({ sub, expiresIn: -60 }),
    /** A token whose signature the keyset's key does not verify. */
    forgedToken: (sub = "mallory") => sign({ sub, key: other.privateKey }),
    /** The answer to a request for `url` when the issuer is `up`. */
    answer(url, { up = true } = {}) {
      if (!up) return new Response("unavailable", { status: 503 });
      if (url !== KEYSET_URL) return new Response("not found", { status: 404 });
      return new Response(jwks, {
        status: 200,
        headers: {
          "content-type": "application/jwk-set+json",
          "cache-control": "public, max-age=300",
          "access-control-allow-origin": "*",
        },
      });
    },
  };
}
