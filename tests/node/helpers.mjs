// Shared helpers for the Node tests: keys and tokens minted with `jose` (an independent JOSE
// implementation), and a loopback keyset server that counts what it is asked.
import http from "node:http";
import { randomBytes } from "node:crypto";
import * as jose from "jose";

export const ISS = "https://auth.example.com";
export const now = () => Math.floor(Date.now() / 1000);

export async function edKey(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return { kid, alg: "EdDSA", jwk, signingKey: privateKey };
}

export function hsKey(kid) {
  const secret = randomBytes(32);
  const jwk = { kty: "oct", k: jose.base64url.encode(secret), kid, alg: "HS256", use: "sig" };
  return { kid, alg: "HS256", jwk, signingKey: secret };
}

export function jwksOf(...keys) {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

/// Mints an access token with jose. `claims` override the defaults; `header` extends the header.
export async function mint(key, { claims = {}, header = {}, exp = now() + 600 } = {}) {
  return new jose.SignJWT({ sid: "s-1", scope: "read", ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...header })
    .setIssuer(claims.iss ?? ISS)
    .setAudience(claims.aud ?? "api")
    .setSubject(claims.sub ?? "user-1")
    .setIssuedAt(now() - 5)
    .setExpirationTime(exp)
    .sign(key.signingKey);
}

/// Changes the claims of a signed token without re-signing it.
export function tamper(token, change) {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString("base64url");
  return `${h}.${forged}.${s}`;
}

/// A loopback HTTP server for a keyset. `handler(req, res, state)` may override the default
/// behaviour (serve `state.body` with ETag and Cache-Control). Counts every request.
export async function keysetServer(initialBody, { maxAge = 300, delayMs = 0, handler } = {}) {
  const state = { body: initialBody, requests: 0, conditional: 0, notModified: 0, maxAge, delayMs, headers: [] };
  const server = http.createServer(async (req, res) => {
    state.requests++;
    state.headers.push(req.headers);
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (handler && (await handler(req, res, state)) !== false) return;
    const etag = `"${Buffer.from(state.body).length}-${hash(state.body)}"`;
    if (req.headers["if-none-match"]) state.conditional++;
    if (req.headers["if-none-match"] === etag) {
      state.notModified++;
      res.writeHead(304, { etag, "cache-control": `max-age=${state.maxAge}` });
      return res.end();
    }
    res.writeHead(200, { "content-type": "application/json", etag, "cache-control": `public, max-age=${state.maxAge}` });
    res.end(state.body);
  });
  server.keepAliveTimeout = 100;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  return {
    url,
    state,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

function hash(s) {
  let h = 0;
  for (const c of String(s)) h = (h * 31 + c.charCodeAt(0)) | 0;
  return (h >>> 0).toString(16);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
