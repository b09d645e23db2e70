// Provider-shaped keysets and tokens (tests/fixtures/issuers/*.json) made real with fresh keys:
// every "$key" member of a fixture's JWKS gets a new key's public value (RSA 2048 or EC, by the
// key's kty/crv), "$x5c"/"$x5t" a stand-in certificate and its thumbprint (ignored by verifiers,
// present so the member set is the provider's). Tokens are minted with jose, with the fixture's
// header and claims and fresh times. Shared by the Node, workerd and Chromium tests.
import { readFileSync, readdirSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import * as jose from "jose";

const DIR = new URL("../fixtures/issuers/", import.meta.url);

export function issuerFixtures() {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ""), ...JSON.parse(readFileSync(new URL(f, DIR), "utf8")) }));
}

/** A fresh key pair for a JWK template: its JWK public members and its jose signing key. */
async function freshKey(template) {
  const alg = template.alg ?? (template.kty === "EC" ? { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[template.crv] : "RS256");
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await jose.exportJWK(publicKey);
  if (template.$leadingZero) jwk.n = jose.base64url.encode(Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n, "base64url")]));
  return { alg, jwk, privateKey };
}

/** A fixture made real: `{ jwks (text), keys, mint({ expired, claims }) }`. */
export async function materialise(fixture) {
  const cert = randomBytes(700).toString("base64"); // a stand-in, never parsed by a verifier
  const x5t = createHash("sha1").update(Buffer.from(cert, "base64")).digest("base64url");
  const keys = [];
  for (const template of fixture.jwks.keys) {
    const fresh = await freshKey(template);
    const published = {};
    for (const [name, value] of Object.entries(template)) {
      if (name === "$leadingZero") continue;
      published[name] =
        value === "$key" ? fresh.jwk[name]
        : value === "$x5t" ? x5t
        : Array.isArray(value) && value[0] === "$x5c" ? [cert]
        : value;
    }
    keys.push({ ...fresh, published });
  }
  const jwks = JSON.stringify({ ...fixture.jwks, keys: keys.map((k) => k.published) }).replaceAll("$x5c", cert);
  const signer = keys[fixture.signingKey];
  const mint = ({ expired = false, claims = {}, key = signer } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now - 5, exp: expired ? now - 60 : now + 600, nbf: now - 5, auth_time: now - 100 };
    const body = { ...fixture.claims, ...claims };
    for (const name of fixture.time) body[name] = times[name];
    return new jose.SignJWT(body).setProtectedHeader(fixture.header).sign(key.privateKey);
  };
  return { jwks, keys, signer, mint };
}

/** The token with one claim changed and the signature kept. */
export function tampered(token) {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  claims.sub = `${claims.sub}x`;
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
}
export { jose };
