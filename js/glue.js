// Runtime glue for the wasm verifier: the only I/O it does. Written against the globals that
// Cloudflare Workers, browsers and Node >= 18 share (fetch, AbortController, setTimeout), with no
// `window` assumption. Imported by src/wasm/runtime.rs.

// Fetches the keyset with a timeout and a body cap. Never rejects: failures are data, so the
// Rust side always gets a result to feed the cache policy. Headers that decide freshness
// (Cache-Control, Age) are passed through raw: the core parses them, not this file.
// Redirects are not followed (SPEC §5): with `redirect: "manual"` workerd and Node answer the 3xx
// itself and browsers an opaque redirect (status 0); either reaches the core as a status it
// counts as a failed fetch, and the body of a redirect is never read.
// `fetcher` is the runtime's fetch unless the caller passed its own (the `fetch` option), e.g. a
// Worker's Cache API layer shared by every isolate of a colo.
export async function fetchKeyset(fetcher, url, authorization, etag, timeoutMs, maxBytes) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const headers = { accept: "application/jwk-set+json, application/json" };
    if (authorization) headers.authorization = authorization;
    if (etag) headers["if-none-match"] = etag;
    const res = await (fetcher ?? fetch)(url, { headers, signal: controller.signal, redirect: "manual" });
    // A custom fetcher that followed a redirect anyway brought a keyset from another place.
    if (res.redirected) {
      await res.body?.cancel().catch(() => {});
      return { kind: "failed" };
    }
    const h = (name) => res.headers.get(name);
    let body = new Uint8Array(0);
    if (res.status === 200) {
      if (Number(h("content-length")) > maxBytes) {
        await res.body?.cancel().catch(() => {});
        return { kind: "too_large" };
      }
      body = await readCapped(res, maxBytes);
      if (body === null) return { kind: "too_large" };
    } else {
      await res.body?.cancel().catch(() => {});
    }
    return { kind: "http", status: res.status, body, cacheControl: h("cache-control"), age: h("age"), etag: h("etag") };
  } catch {
    return { kind: "failed" };
  } finally {
    clearTimeout(timer);
  }
}

// Reads a body, giving up (null) as soon as it passes maxBytes.
async function readCapped(res, maxBytes) {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

// Resolves when `promise` settles or after `ms`, whichever is first. On Workers a promise
// started by another request may never settle for this one (SPEC §5): waiters must not hang.
export function settledOrTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.then(() => {}, () => {}), timeout]).finally(() => clearTimeout(timer));
}

// Reads an options object in one call: the values of `names`, in order. Unknown options and
// non-objects throw a TypeError naming them (SPEC §6).
export function pickOptions(options, names) {
  if (options === undefined || options === null) return null;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError("jwtedge: options must be an object");
  }
  for (const key in options) {
    if (Object.hasOwn(options, key) && !names.includes(key)) {
      throw new TypeError(`jwtedge: unknown option "${key}"`);
    }
  }
  return names.map((name) => options[name]);
}

// Ed25519 by the runtime's WebCrypto, settling to one of two outcomes prepared in wasm. Imported
// keys are kept per public key (resolved CryptoKeys only: on Workers a promise made by one
// request must not be awaited by another). Where WebCrypto has no Ed25519, or refuses the key,
// `wasmCheck` decides.
const ed25519Keys = new Map();
export function ed25519Outcome(publicKeyView, signatureView, messageView, ifValid, ifInvalid, wasmCheck) {
  // The views are of wasm memory, valid only until this call returns: copy them now.
  const publicKey = publicKeyView.slice();
  const signature = signatureView.slice();
  const message = messageView.slice();
  return webCryptoEd25519(publicKey, signature, message).then((verdict) =>
    (verdict ?? wasmCheck(publicKey, signature, message)) ? ifValid : ifInvalid,
  );
}

async function webCryptoEd25519(publicKey, signature, message) {
  try {
    const id = String.fromCharCode(...publicKey);
    let key = ed25519Keys.get(id);
    if (!key) {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      if (ed25519Keys.size >= 256) ed25519Keys.clear();
      ed25519Keys.set(id, key);
    }
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return null;
  }
}

// RSA and ECDSA by the runtime's own crypto (SPEC §3a), settling to one of two outcomes prepared
// in wasm. `keys` is the table of one keyset version (newRuntimeKeys): each key's parameters, and
// the keys imported so far, dropped with the table when the keyset changes.
// In Node, the package's Node entry (node.js) hands over node:crypto, which verifies
// synchronously: the outcome is returned as is. Elsewhere WebCrypto answers a promise.
// A key the runtime refuses to import, or an algorithm it lacks (P-521 in some runtimes), verifies
// nothing: `ifInvalid`.
const NODE_CRYPTO = Symbol.for("jwtedge.node:crypto");
export function newRuntimeKeys(params) {
  return { params, imported: new Map() };
}

// The minimal public JWK of key `index` (no alg, use or key_ops that could make an import refuse).
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function jwkOf(keys, index) {
  const [kind, first, second] = keys.params[index];
  return kind === "RSA"
    ? { kty: "RSA", n: b64url(first), e: b64url(second) }
    : { kty: "EC", crv: kind, x: b64url(first), y: b64url(second) };
}

export function runtimeOutcome(keys, index, algIndex, signatureView, messageView, ifValid, ifInvalid) {
  const alg = algs[algIndex];
  const node = globalThis[NODE_CRYPTO];
  if (node) return nodeVerify(node, keys, index, alg, signatureView, messageView) ? ifValid : ifInvalid;
  // The views are of wasm memory, valid only until this call returns: copy them now.
  const signature = signatureView.slice();
  const message = messageView.slice();
  return webCryptoVerify(keys, index, alg, signature, message).then((ok) => (ok ? ifValid : ifInvalid));
}

// `alg` → [hash, kind]: kind "pkcs1", "pss" or "ecdsa".
const SCHEMES = {};
for (const bits of [256, 384, 512]) {
  SCHEMES[`RS${bits}`] = [bits, "pkcs1"];
  SCHEMES[`PS${bits}`] = [bits, "pss"];
  SCHEMES[`ES${bits}`] = [bits, "ecdsa"];
}

function nodeVerify(node, keys, index, alg, signature, message) {
  try {
    let key = keys.imported.get(index);
    if (key === undefined) {
      try {
        key = node.createPublicKey({ key: jwkOf(keys, index), format: "jwk" });
      } catch {
        key = null;
      }
      keys.imported.set(index, key);
    }
    if (key === null) return false;
    const [bits, kind] = SCHEMES[alg];
    const hash = `sha${bits}`;
    if (kind === "pkcs1") return node.verify(hash, message, key, signature);
    if (kind === "pss") {
      return node.verify(hash, message, { key, padding: node.constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }, signature);
    }
    return node.verify(hash, message, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

// WebCrypto binds an RSA key to its scheme and hash: imported keys are kept per (alg, index).
// Resolved CryptoKeys only: on Workers a promise made by one request must not be awaited by another.
const CURVES = { 256: "P-256", 384: "P-384", 512: "P-521" };
async function webCryptoVerify(keys, index, alg, signature, message) {
  try {
    const [bits, kind] = SCHEMES[alg];
    const hash = `SHA-${bits}`;
    const id = `${alg}:${index}`;
    let key = keys.imported.get(id);
    if (key === undefined) {
      const importAs =
        kind === "pkcs1" ? { name: "RSASSA-PKCS1-v1_5", hash }
        : kind === "pss" ? { name: "RSA-PSS", hash }
        : { name: "ECDSA", namedCurve: CURVES[bits] };
      try {
        key = await crypto.subtle.importKey("jwk", jwkOf(keys, index), importAs, false, ["verify"]);
      } catch {
        key = null;
      }
      keys.imported.set(id, key);
    }
    if (key === null) return false;
    const scheme =
      kind === "pkcs1" ? { name: "RSASSA-PKCS1-v1_5" }
      : kind === "pss" ? { name: "RSA-PSS", saltLength: bits / 8 }
      : { name: "ECDSA", hash };
    return await crypto.subtle.verify(scheme, key, signature, message);
  } catch {
    return false;
  }
}

// Option errors (SPEC §6: a TypeError naming the option), worded here so the wasm carries no
// string formatting. Range bounds are written as integers.
export function optionError(option, expected) {
  return new TypeError(`jwtedge: option "${option}" must be ${expected}`);
}
export function optionRangeError(option, min, max) {
  const [low, high] = [Math.trunc(min), Math.trunc(max)];
  return optionError(option, min > 0 && min < 1 ? `a number above 0, at most ${high}` : `a number from ${low} to ${high}`);
}

export function statsObject(fetches, notModified, failures, cacheHits, keys) {
  return { fetches, notModified, failures, cacheHits, keys };
}

export function isCloudflareWorkers() {
  return globalThis.navigator?.userAgent === "Cloudflare-Workers";
}

// The token's UTF-8 bytes written straight into wasm memory at `ptr` (capacity `cap`): the byte
// count, -1 when it has more than `maxUnits` UTF-16 units (so surely over the byte limit), -2
// when it is not a string.
let memory;
const encoder = new TextEncoder();
export function registerMemory(wasmMemory) {
  memory = wasmMemory;
}
export function encodeToken(token, ptr, cap, maxUnits) {
  if (typeof token !== "string") return -2;
  if (token.length > maxUnits) return -1;
  const { read, written } = encoder.encodeInto(token, new Uint8Array(memory.buffer, ptr, cap));
  return read === token.length ? written : -1;
}

// Outcome strings, registered once by the Rust side (its enums are the one source of the codes),
// so an outcome crosses the boundary as a small integer instead of decoded strings.
let rejected = [];
let algs = [];
export function registerCodes(statuses, reasons, algNames) {
  rejected = reasons.map((reason, i) => [statuses[i], reason]);
  algs = algNames;
}

export function okOutcome(claimsJson, kid, alg) {
  return { status: "OK", claims: JSON.parse(claimsJson), kid, alg: algs[alg] };
}

export function rejectedOutcome(reason) {
  const [status, code] = rejected[reason];
  return { status, reason: code };
}

// True when `jwks` is the very string of the previous call (verifyWithKeyset then reuses the
// keyset it parsed). Comparing in JS costs no copy into wasm memory.
let lastKeysetText;
export function keysetUnchanged(jwks) {
  if (typeof jwks === "string" && jwks === lastKeysetText) return true;
  lastKeysetText = typeof jwks === "string" ? jwks : undefined;
  return false;
}
