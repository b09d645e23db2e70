// Each contender as its users would configure it for an access token: a function that verifies
// one token (issuer and audience checked) and returns truthy when it is accepted. Shared by the
// Node bench and the workerd bench (which bundles this file into a worker).
import * as jose from "jose";
import tsndr from "@tsndr/cloudflare-worker-jwt";
import { ISS, AUD } from "./tokens-const.mjs";

/// `jwtedge`: the module (Node entry or web build after initSync).
export async function contenders(jwtedge, key, { fastJwt, nodeCrypto, keysetUrl } = {}) {
  const jwks = JSON.stringify({ keys: [key.jwk] });
  const expect = { issuer: ISS, audience: AUD };
  const list = [];
  // RSA/ECDSA signatures are checked by the runtime: synchronously by node:crypto through the
  // Node entry, by WebCrypto elsewhere, where verifyWithKeyset answers a promise for them.
  const runtimeSig = key.alg.startsWith("RS") || key.alg.startsWith("ES");
  list.push({
    name: "jwtedge verifyWithKeyset",
    sync: !runtimeSig || !!nodeCrypto,
    verify: (t) => {
      const out = jwtedge.verifyWithKeyset(t, jwks, expect);
      return typeof out.then === "function" ? out.then((o) => o.status === "OK") : out.status === "OK";
    },
  });
  if (keysetUrl) {
    const verifier = new jwtedge.Verifier({ keysetUrl, ...expect });
    list.push({
      name: "jwtedge Verifier (warm)",
      verify: async (t) => (await verifier.verify(t)).status === "OK",
    });
    if (key.alg === "EdDSA") {
      // The default picks per runtime ("auto"); both backends are shown so the choice is visible.
      for (const backend of ["wasm", "webcrypto"]) {
        const v = new jwtedge.Verifier({ keysetUrl, ...expect, ed25519: backend });
        list.push({
          name: `jwtedge Verifier (warm, ed25519: ${backend})`,
          verify: async (t) => (await v.verify(t)).status === "OK",
        });
      }
    }
  }
  // jose's JWKS resolvers take asymmetric keys only: for HS256 its one form is an imported key.
  const localSet = key.alg === "HS256" ? null : jose.createLocalJWKSet({ keys: [key.jwk] });
  if (localSet) list.push({
    name: "jose jwtVerify + createLocalJWKSet",
    verify: async (t) => {
      try {
        return !!(await jose.jwtVerify(t, localSet, expect));
      } catch {
        return false;
      }
    },
  });
  const imported = await jose.importJWK(key.jwk, key.alg);
  list.push({
    name: "jose jwtVerify + imported key",
    verify: async (t) => {
      try {
        return !!(await jose.jwtVerify(t, imported, expect));
      } catch {
        return false;
      }
    },
  });
  if (key.alg !== "EdDSA") {
    list.push({
      name: "@tsndr/cloudflare-worker-jwt",
      // It checks signature, exp and nbf only: issuer and audience are compared by the caller.
      verify: async (t) => {
        const out = await tsndr.verify(t, key.jwk, { algorithm: key.alg });
        return !!out && out.payload.iss === ISS && out.payload.aud === AUD;
      },
    });
  }
  if (fastJwt) {
    const verifier = fastJwt.createVerifier({
      key: key.alg === "HS256" ? key.secret : key.verifyPem,
      algorithms: [key.alg],
      allowedIss: ISS,
      allowedAud: AUD,
      cache: false,
    });
    list.push({
      name: "fast-jwt (sync, cache off)",
      sync: true,
      verify: (t) => {
        try {
          return !!verifier(t);
        } catch {
          return false;
        }
      },
    });
  }
  if (nodeCrypto && key.alg === "HS256") {
    // The bar: Node's own native HMAC over the same bytes, with no parsing or checks at all.
    list.push({
      name: "node:crypto createHmac (bare HMAC only)",
      sync: true,
      baseline: true,
      verify: (t) => {
        const dot = t.lastIndexOf(".");
        return nodeCrypto.createHmac("sha256", key.secret).update(t.slice(0, dot)).digest().length === 32;
      },
    });
  }
  if (key.alg === "HS256" && globalThis.crypto?.subtle) {
    // The floor of jose's approach: the runtime's WebCrypto HMAC verify with the key imported
    // once, no parsing or claims at all.
    const cryptoKey = await crypto.subtle.importKey("raw", key.secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const enc = new TextEncoder();
    list.push({
      name: "WebCrypto HMAC verify (bare, no parsing)",
      baseline: true,
      verify: async (t) => {
        const dot = t.lastIndexOf(".");
        const sig = base64urlBytes(t.slice(dot + 1));
        return crypto.subtle.verify("HMAC", cryptoKey, sig, enc.encode(t.slice(0, dot)));
      },
    });
    // The call alone: each token split and decoded once (the bench cycles 64 tokens), as the RSA
    // and ECDSA floors below; the row above also pays the per-token split, atob and encode.
    const split = new Map();
    list.push({
      name: "WebCrypto HMAC verify, each token decoded once (bare call alone)",
      baseline: true,
      verify: async (t) => {
        let p = split.get(t);
        if (!p) {
          const dot = t.lastIndexOf(".");
          p = { data: enc.encode(t.slice(0, dot)), sig: base64urlBytes(t.slice(dot + 1)) };
          split.set(t, p);
        }
        return crypto.subtle.verify("HMAC", cryptoKey, p.sig, p.data);
      },
    });
  }
  if (key.alg === "EdDSA" && globalThis.crypto?.subtle) {
    // The floor for EdDSA: the runtime's own WebCrypto verify with the key imported once, no
    // parsing or claims at all.
    const raw = base64urlBytes(key.jwk.x);
    const cryptoKey = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    const enc = new TextEncoder();
    list.push({
      name: "WebCrypto Ed25519 verify (bare, no parsing)",
      baseline: true,
      verify: async (t) => {
        const dot = t.lastIndexOf(".");
        const sig = base64urlBytes(t.slice(dot + 1));
        return crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig, enc.encode(t.slice(0, dot)));
      },
    });
  }
  if (runtimeSig) {
    // The floors for RSA and ECDSA: the runtime's own call with the key imported once, no parsing
    // or claims at all. Every contender ends at one of them.
    const hash = `sha${key.alg.slice(2)}`;
    const p1363 = key.alg.startsWith("ES"); // JWS ECDSA signatures are r||s, not DER
    // Each token split and decoded once (the bench cycles 64 tokens), so the floor is the call
    // alone: decoding base64 in JS per call cost more than the gap being measured in workerd.
    const split = new Map();
    const parts = (t) => {
      let p = split.get(t);
      if (!p) {
        const dot = t.lastIndexOf(".");
        p = { data: new TextEncoder().encode(t.slice(0, dot)), sig: base64urlBytes(t.slice(dot + 1)) };
        split.set(t, p);
      }
      return p;
    };
    if (nodeCrypto) {
      const keyObject = nodeCrypto.createPublicKey({ key: key.jwk, format: "jwk" });
      const verifyKey = p1363 ? { key: keyObject, dsaEncoding: "ieee-p1363" } : keyObject;
      list.push({
        name: "node:crypto verify, cached KeyObject (bare, no parsing)",
        sync: true,
        baseline: true,
        verify: (t) => {
          const { data, sig } = parts(t);
          return nodeCrypto.verify(hash, data, verifyKey, sig);
        },
      });
    }
    if (globalThis.crypto?.subtle) {
      const algorithm = p1363
        ? { name: "ECDSA", namedCurve: key.jwk.crv, hash: `SHA-${key.alg.slice(2)}` }
        : { name: "RSASSA-PKCS1-v1_5", hash: `SHA-${key.alg.slice(2)}` };
      const { alg: _alg, use: _use, kid: _kid, ...bareJwk } = key.jwk;
      const cryptoKey = await crypto.subtle.importKey("jwk", bareJwk, algorithm, false, ["verify"]);
      list.push({
        name: `WebCrypto ${algorithm.name} verify, cached CryptoKey (bare, no parsing)`,
        baseline: true,
        verify: async (t) => {
          const { data, sig } = parts(t);
          return crypto.subtle.verify(algorithm, cryptoKey, sig, data);
        },
      });
    }
  }
  return list;
}

/// base64url to bytes for the floors, as a lean verifier would: atob and a plain loop
/// (`Uint8Array.from(string, fn)` costs several times more in V8, which flattered the floor).
function base64urlBytes(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
