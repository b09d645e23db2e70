// "Another issuer": a loopback JWKS with one Ed25519 test key, and tokens signed by it with any
// claims — values the jwtedge origin would refuse to issue (SPEC §7 "Subjects"), as another
// issuer might not.
import { generateKeyPairSync, sign } from "node:crypto";
import http from "node:http";

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");

export async function startTestIssuer({ kid = "test-issuer-key-1" } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
  const body = JSON.stringify({ keys: [jwk] });
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "public, max-age=300",
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    keysetUrl: `${url}/.well-known/jwks.json`,
    kid,
    get served() {
      return served;
    },
    /** A token over `claims` (iat/exp/iss/aud filled in unless given), signed by the test key. */
    token(claims, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      const full = { iss: url, aud: "api", iat: now, exp: now + 600, ...claims };
      const input = `${b64({ alg: "EdDSA", kid, typ: "JWT", ...header })}.${b64(full)}`;
      return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
