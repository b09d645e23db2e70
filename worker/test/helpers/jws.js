// Hand-made JWS for forgery tests (node:crypto only).
import { createHmac, generateKeyPairSync, sign } from "node:crypto";

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

export function decode(token) {
  const [h, p] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    claims: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}

/** An EdDSA token signed by a fresh key that no keyset holds. */
export function signWithStrangerKey(header, claims) {
  const { privateKey } = generateKeyPairSync("ed25519");
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
}

export function unsigned(header, claims) {
  return `${b64(header)}.${b64(claims)}.`;
}

export function hs256(header, claims, secret) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** `token` with its claims replaced (the signature kept: it no longer matches). */
export function tamper(token, change) {
  const [h, , s] = token.split(".");
  const { claims } = decode(token);
  return `${h}.${b64({ ...claims, ...change })}.${s}`;
}
