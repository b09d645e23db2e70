// Differential test: mutated tokens verified by jwtedge (pkg/, verifyWithKeyset) and by jose
// (jwtVerify) with the same keys, the same expectations and the same clock. jwtedge says OK exactly
// when jose accepts, except for the deliberate divergences in DIVERGENCES, each recognised by name
// from the token itself (never "any malformed token"), each caused by a line of the SPEC.
//
// JWTEDGE_DIFF_CASES (default 10000), JWTEDGE_DIFF_SEED (default random; printed, replays a run).
// Algorithms come from one table (ROWS): EdDSA, HS256, RS256, PS256, ES256.
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import { verifyWithKeyset } from "jwtedge";

const NOW = 1_700_000_000;
const ISS = "https://auth.example.com";
const CASES = Number(process.env.JWTEDGE_DIFF_CASES || 10_000);
const SEED = Number(process.env.JWTEDGE_DIFF_SEED || Math.floor(Math.random() * 2 ** 32)) >>> 0;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32): case i of seed s is the same case everywhere.

function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    below: (n) => Math.floor(next() * Math.max(1, n)),
    chance: (p) => next() < p,
    pick(items) {
      return items[this.below(items.length)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The algorithm table: the same keys as tests/common (Ed25519 seeds [1;32], [2;32]; HMAC [7;32]).

const b64 = (bytes) => Buffer.from(bytes).toString("base64url");

function edRow(kid, seed, forgerSeed) {
  const privateKey = (s) =>
    createPrivateKey({
      key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, s)]),
      format: "der",
      type: "pkcs8",
    });
  const key = privateKey(seed);
  const forger = privateKey(forgerSeed);
  const { kty, crv, x } = createPublicKey(key).export({ format: "jwk" });
  return {
    alg: "EdDSA",
    kid,
    jwk: { kty, crv, x, alg: "EdDSA", use: "sig" },
    sign: (input) => nodeSign(null, input, key),
    forge: (input) => nodeSign(null, input, forger),
    publicBytes: Buffer.from(x, "base64url"),
  };
}

function hsRow(kid, secretByte, forgerByte) {
  const secret = Buffer.alloc(32, secretByte);
  const hmac = (k) => (input) => createHmac("sha256", k).update(input).digest();
  return {
    alg: "HS256",
    kid,
    jwk: { kty: "oct", k: b64(secret), alg: "HS256", use: "sig" },
    sign: hmac(secret),
    forge: hmac(Buffer.alloc(32, forgerByte)),
    publicBytes: null,
  };
}

// RSA and ECDSA: the fixture keys of tests/fixtures (made for the tests); jwtedge checks them with
// node:crypto through its Node entry, jose with WebCrypto.
const fixtureKey = (name) =>
  createPrivateKey({ key: readFileSync(new URL(`../fixtures/${name}`, import.meta.url)), format: "der", type: "pkcs8" });
const RSA_KEY = fixtureKey("rsa2048-test-key.pk8");
const RSA_FORGER = fixtureKey("rsa2048-forger-key.pk8");
const EC_KEY = fixtureKey("ec-p256-test-key.pk8");
const EC_FORGER = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;

function runtimeRow(kid, alg) {
  const ec = alg.startsWith("ES");
  const [key, forger] = ec ? [EC_KEY, EC_FORGER] : [RSA_KEY, RSA_FORGER];
  const options = (k) =>
    alg.startsWith("PS") ? { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : ec ? { key: k, dsaEncoding: "ieee-p1363" }
    : k;
  const { kty, n, e, crv, x, y } = createPublicKey(key).export({ format: "jwk" });
  return {
    alg,
    kid,
    jwk: ec ? { kty, crv, x, y, alg, use: "sig" } : { kty, n, e, alg, use: "sig" },
    sign: (input) => nodeSign("sha256", input, options(key)),
    forge: (input) => nodeSign("sha256", input, options(forger)),
    publicBytes: ec ? Buffer.concat([Buffer.from(x, "base64url"), Buffer.from(y, "base64url")]) : Buffer.from(n, "base64url"),
  };
}

const ROWS = [
  edRow("ed-1", 1, 9),
  edRow("ed-2", 2, 8),
  hsRow("hs-1", 7, 8),
  runtimeRow("rs-1", "RS256"),
  runtimeRow("ps-1", "PS256"),
  runtimeRow("es-1", "ES256"),
];
const ALGS = [...new Set(ROWS.map((r) => r.alg))];

const KEYSETS = {
  standard: { keys: ROWS.map((r) => ({ ...r.jwk, kid: r.kid })) },
  // Third-party style (SPEC §3): the first key of each algorithm, no kids.
  kidless: { keys: ALGS.map((alg) => ROWS.find((r) => r.alg === alg).jwk) },
};
const KEYSET_TEXT = Object.fromEntries(Object.entries(KEYSETS).map(([k, v]) => [k, JSON.stringify(v)]));

/// jose's key selection for a JWK Set. createLocalJWKSet refuses secret algorithms, so HMAC keys are
/// selected here by the rule of its isUsableJWK (kid only if a string, alg and use if present).
function joseKeyResolver(jwks) {
  const local = jose.createLocalJWKSet(jwks);
  return async (header, token) => {
    if (typeof header.alg === "string" && header.alg.startsWith("HS")) {
      const { kid } = header;
      const candidates = jwks.keys.filter(
        (k) =>
          k.kty === "oct" &&
          (kid === undefined || (typeof kid === "string" && kid === k.kid)) &&
          (k.alg === undefined || k.alg === header.alg) &&
          (k.use === undefined || k.use === "sig"),
      );
      if (candidates.length !== 1) throw new Error(`${candidates.length} matching HMAC keys`);
      return jose.base64url.decode(candidates[0].k);
    }
    return local(header, token);
  };
}
const RESOLVERS = Object.fromEntries(Object.entries(KEYSETS).map(([k, v]) => [k, joseKeyResolver(v)]));

// ---------------------------------------------------------------------------------------------
// Generation: JSON as member lists [name as written between quotes, raw JSON value].

const js = (s) => JSON.stringify(s);
const object = (members) => `{${members.map(([n, v]) => `"${n}":${v}`).join(",")}}`;
const set = (m, name, value) => {
  const member = m.find(([n]) => n === name);
  if (member) member[1] = value;
  else m.push([name, value]);
};

const HUGE_NUMBERS = ["1e308", "1e309", "-1e309", "1e999", "-0", "18446744073709551616", "9007199254740993",
  "4.9e-324", "1e-400", "00", "01", "1.", "+1", ".5", "NaN", "Infinity", "0x10", "1700000000.000000000000000000001"];
const STRING_PIECES = ["a", "user", "é", "日本", "🎉", "\\u0041", "\\n", '\\"', "\\\\", "\\ud83d\\ude00", "\\ud800",
  "\\udfff", "\\u0000", " ", "\u202e", "\ufeff", "\\/", "\u0001"];

class Gen {
  constructor(rng) {
    this.r = rng;
    this.log = [];
  }
  note(what) {
    this.log.push(what);
  }
  stringContent() {
    let s = "";
    for (let i = this.r.below(5); i > 0; i--) s += this.r.pick(STRING_PIECES);
    return s;
  }
  value(depth, wild) {
    switch (this.r.below(depth === 0 ? 4 : 6)) {
      case 0:
        return wild ? this.r.pick(HUGE_NUMBERS) : String(Math.floor(this.r.below(2e6)) - 1e6);
      case 1:
        return wild ? `"${this.stringContent()}"` : js(this.r.pick(["é", "日本", "🎉", "a b", "\u0000", "\\", '"', ""]));
      case 2:
        return this.r.pick(["true", "false", "null"]);
      case 3:
        return js(this.r.pick(["api", ISS, "user-1", "admin", ""]));
      case 4:
        return `[${Array.from({ length: this.r.below(4) }, () => this.value(depth - 1, wild)).join(",")}]`;
      default:
        return object(
          Array.from({ length: this.r.below(4) }, () => [
            wild ? this.stringContent() : this.r.pick(["a", "b", "é", "🎉"]),
            this.value(depth - 1, wild),
          ]),
        );
    }
  }
  nested() {
    const depth = this.r.pick([30, 31, 32, 33, 64, 5000]);
    return this.r.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  }
  options() {
    const o = {};
    if (this.r.chance(0.8)) o.issuer = ISS;
    if (this.r.chance(0.8)) o.audience = this.r.chance(0.8) ? "api" : ["billing", "api"];
    o.leewaySeconds = this.r.pick([0, 0, 0, 5, 0.5, 60]);
    if (this.r.chance(0.1)) o.algorithms = [this.r.pick(ALGS)];
    if (this.r.chance(0.1)) o.tokenType = "at+jwt";
    if (this.r.chance(0.1)) o.requiredClaims = [this.r.pick(["sid", "scope", "nope"])];
    return o;
  }
  header(row, withKid) {
    const h = [["alg", js(row.alg)]];
    if (withKid) h.push(["kid", js(row.kid)]);
    const typ = this.r.pick(["at+jwt", "at+jwt", "at+jwt", "JWT", undefined, "application/at+jwt"]);
    if (typ !== undefined) h.push(["typ", js(typ)]);
    if (this.r.chance(0.2)) h.reverse();
    return h;
  }
  claims(opts) {
    const l = opts.leewaySeconds;
    const c = [
      ["iss", js(this.r.pick([ISS, ISS, ISS, ISS, ISS, "https://evil.example", `${ISS}/`]))],
      ["sub", js("user-1")],
      ["aud", this.r.pick(['"api"', '"api"', '"api"', '["x","api"]', '"billing"', "[]"])],
      ["iat", String(NOW - 10)],
      ["exp", String(this.r.pick([NOW + 600, NOW + 600, NOW + 600, NOW - 10, NOW - l, NOW - l + 0.25, NOW - l - 0.25]))],
    ];
    if (this.r.chance(0.3)) c.push(["nbf", String(this.r.pick([NOW - 10, NOW + 100, NOW + l, NOW + l + 0.25]))]);
    c.push(["jti", js("j-1")], ["sid", js("s-1")]);
    for (let i = this.r.below(3); i > 0; i--) {
      const wild = this.r.chance(0.1);
      c.push([this.r.pick(["role", "scope", "é", "🎉", "x\\u0000"]), this.value(2, wild)]);
    }
    if (this.r.chance(0.2)) c.reverse();
    return c;
  }

  /// One change to a header's or a claims set's members.
  mutateMembers(m, isHeader) {
    if (m.length === 0) m.push(["x", "1"]);
    const i = this.r.below(m.length);
    const kind = this.r.below(11);
    if (kind === 0) {
      const value = this.r.chance(0.5) ? m[i][1] : this.value(1, true);
      this.note(`duplicate member ${m[i][0]}`);
      m.splice(this.r.below(m.length + 1), 0, [m[i][0], value]);
    } else if (kind === 1) {
      const name = m[i][0];
      if (name.length && name.charCodeAt(0) < 128) {
        this.note(`escape name ${name}`);
        m[i][0] = `\\u${name.charCodeAt(0).toString(16).padStart(4, "0")}${name.slice(1)}`;
      }
    } else if (kind === 2) {
      m[i][1] = this.r.pick(HUGE_NUMBERS);
      this.note(`${m[i][0]} = ${m[i][1]}`);
    } else if (kind === 3) {
      m[i][1] = this.nested();
      this.note(`${m[i][0]} = nested`);
    } else if (kind === 4) {
      m[i][1] = `"${this.stringContent()}"`;
      this.note(`${m[i][0]} = ${m[i][1]}`);
    } else if (kind === 5) {
      this.note(`drop ${m[i][0]}`);
      m.splice(i, 1);
    } else if (kind === 6) {
      m[i][1] = this.value(2, true);
      this.note(`${m[i][0]} = ${m[i][1]}`);
    } else if (isHeader && kind === 7) {
      const alg = this.r.chance(0.33)
        ? js(this.r.pick(ALGS))
        : this.r.pick(['"none"', '"NONE"', '"hs256"', '"HS384"', '"RS256"', '"ES256"', '"EdDSA "', '"Ed25519"', '""', "null", "1", '["EdDSA"]', '"H\\u0053256"']);
      this.note(`alg ${alg}`);
      set(m, "alg", alg);
    } else if (isHeader && kind === 8) {
      if (this.r.chance(0.15)) {
        this.note("drop kid");
        const at = m.findIndex(([n]) => n === "kid");
        if (at >= 0) m.splice(at, 1);
      } else {
        const kid = this.r.chance(0.33)
          ? js(this.r.pick(ROWS).kid)
          : this.r.pick(['"zz"', '""', "null", "5", '"ed\\u002d1"', '"ED-1"', '"ed-1 "', '["ed-1"]']);
        this.note(`kid ${kid}`);
        set(m, "kid", kid);
      }
    } else if (isHeader && kind === 9) {
      const crit = this.r.pick(["[]", '["exp"]', "null", '"x"', "{}", '["b64"]']);
      this.note(`crit ${crit}`);
      m.push(["crit", crit]);
      if (crit === '["b64"]' && this.r.chance(0.5)) m.push(["b64", "true"]);
    } else if (isHeader && kind === 10) {
      const typ = this.r.pick(['"dpop+jwt"', '"AT+JWT"', "null", "5", '"application/jwt"', '"at+jwt "', '""']);
      this.note(`typ ${typ}`);
      set(m, "typ", typ);
    } else if (!isHeader) {
      const [name, value] = this.r.pick([
        ["exp", '"1800000000"'], ["exp", "null"], ["exp", "[1800000000]"], ["aud", "[1]"], ["aud", "{}"],
        ["iss", "5"], ["sub", "null"], ["nbf", '"0"'], ["nbf", "null"], ["iat", "null"], ["jti", "{}"],
        ["sid", "[]"], ["iss", "null"], ["aud", "null"],
      ]);
      this.note(`retype ${name} = ${value}`);
      set(m, name, value);
    } else {
      const name = this.stringContent();
      this.note(`add ${name}`);
      m.push([name, this.value(2, true)]);
    }
  }

  /// One change to the JSON text that member edits cannot make.
  mutateJsonText(bytes) {
    switch (this.r.below(8)) {
      case 0:
        this.note("BOM/whitespace before");
        return Buffer.concat([Buffer.from(this.r.pick(["\ufeff", " ", "\n", "\t\r\n "])), bytes]);
      case 1: {
        const tail = this.r.pick(["x", ",", "}", " ", "\0", "//c", "{}", "\n"]);
        this.note(`trailing ${js(tail)}`);
        return Buffer.concat([bytes, Buffer.from(tail)]);
      }
      case 2: {
        const form = this.r.below(4);
        this.note(`not an object (${form})`);
        return Buffer.from([`[${bytes}]`, '"a string"', "null", ""][form]);
      }
      case 3: {
        const at = this.r.below(bytes.length);
        this.note(`truncate JSON at ${at}`);
        return bytes.subarray(0, at);
      }
      case 4: {
        const bad = this.r.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]);
        const at = this.r.below(bytes.length + 1);
        this.note(`invalid UTF-8 at ${at}`);
        return Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]);
      }
      case 5: {
        const at = bytes.lastIndexOf("}");
        if (at < 0) return bytes;
        this.note("trailing comma");
        return Buffer.concat([bytes.subarray(0, at), Buffer.from(","), bytes.subarray(at)]);
      }
      case 6: {
        const copy = Buffer.from(bytes);
        const i = this.r.below(copy.length);
        const bit = this.r.below(8);
        if (copy.length) copy[i] ^= 1 << bit;
        this.note(`JSON bit flip ${i}:${bit}`);
        return copy;
      }
      default:
        this.note("whitespace around");
        return Buffer.concat([Buffer.from(" "), bytes, Buffer.from(" ")]);
    }
  }

  /// One change to the compact serialisation.
  mutateToken(token, otherSig) {
    const parts = token.split(".");
    const withPart = (i, s) => parts.map((p, k) => (k === i ? s : p)).join(".");
    const p = this.r.below(parts.length);
    switch (this.r.below(12)) {
      case 0: {
        const i = this.r.below(token.length);
        const bit = this.r.below(7);
        const code = token.charCodeAt(i);
        if (!(code < 128)) return token;
        this.note(`bit flip ${i}:${bit}`);
        return token.slice(0, i) + String.fromCharCode(code ^ (1 << bit)) + token.slice(i + 1);
      }
      case 1: {
        let raw;
        try {
          raw = Buffer.from(jose.base64url.decode(parts[p]));
        } catch {
          return token;
        }
        if (!raw.length) return token;
        const i = this.r.below(raw.length);
        const bit = this.r.below(8);
        raw[i] ^= 1 << bit;
        this.note(`decoded bit flip part ${p} byte ${i}:${bit}`);
        return withPart(p, b64(raw));
      }
      case 2: {
        const form = this.r.below(3);
        this.note(`base64 alphabet/padding (${form}), part ${p}`);
        if (form === 0) return withPart(p, parts[p].replace(/-/g, "+").replace(/_/g, "/"));
        if (form === 1) return withPart(p, parts[p] + this.r.pick(["=", "==", "==="]));
        return withPart(p, Buffer.from(parts[p], "base64url").toString("base64"));
      }
      case 3: {
        // Non-zero trailing bits: a lenient decoder reads the same bytes.
        const s = parts[p];
        if (s.length % 4 !== 2 && s.length % 4 !== 3) return token;
        const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const v = ALPHABET.indexOf(s[s.length - 1]);
        if (v < 0) return token;
        const noise = s.length % 4 === 2 ? 1 + this.r.below(15) : 1 + this.r.below(3);
        this.note(`trailing bits, part ${p}`);
        return withPart(p, s.slice(0, -1) + ALPHABET[v | noise]);
      }
      case 4: {
        const at = this.r.below(token.length + 1);
        this.note(`truncate at ${at}`);
        return token.slice(0, at);
      }
      case 5: {
        const form = this.r.below(5);
        this.note(`dots (${form})`);
        return [`${token}.`, `.${token}`, token.replace(".", ".."), token.replace(".", ""), withPart(parts.length - 1, "")][form];
      }
      case 6:
        this.note("signature from another token");
        return withPart(parts.length - 1, otherSig);
      case 7: {
        const ws = this.r.pick([" ", "\n", "\t", "\r\n", "\u00a0", "\u2028"]);
        const at = this.r.below(token.length + 1);
        this.note(`whitespace ${js(ws)} at ${at}`);
        return token.slice(0, at) + ws + token.slice(at);
      }
      case 8: {
        const at = this.r.below(token.length);
        this.note(`delete char ${at}`);
        return token.slice(0, at) + token.slice(at + 1);
      }
      case 9: {
        const ch = this.r.pick(["A", "-", "_", "=", "+", "/", ".", "é", "\0", "\u202e", "🎉"]);
        const at = this.r.below(token.length + 1);
        this.note(`insert ${js(ch)} at ${at}`);
        return token.slice(0, at) + ch + token.slice(at);
      }
      case 10:
        this.note("pad past 8 KiB");
        return token + "A".repeat(Math.max(0, 8192 - token.length) + this.r.below(3));
      default:
        if (parts.length !== 3) return token;
        this.note("swap header and payload");
        return `${parts[1]}.${parts[0]}.${parts[2]}`;
    }
  }
}

const signingInput = (h, c) => `${b64(h)}.${b64(c)}`;

/// One case: a token made from a valid one by a few structured mutations, and its context.
function makeCase(seed, index) {
  const g = new Gen(prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0));
  const r = g.r;
  const opts = g.options();
  const keyset = r.chance(0.85) ? "standard" : "kidless";
  const row = r.pick(ROWS);
  const header = g.header(row, keyset === "standard" || r.chance(0.2));
  const claims = g.claims(opts);
  const h0 = Buffer.from(object(header));
  const c0 = Buffer.from(object(claims));
  const input0 = signingInput(h0, c0);
  const sig0 = b64(row.sign(input0));
  const other = r.pick(ROWS);
  const otherSig = b64(other.sign(input0));

  // Some cases stay clean: the claims' edges (exp, nbf, leeway, iss, aud) against valid signatures.
  const clean = r.chance(0.2);
  for (let i = clean ? 0 : r.below(3); i > 0; i--) {
    if (r.chance(0.5)) g.mutateMembers(header, true);
    else g.mutateMembers(claims, false);
  }
  let h = Buffer.from(object(header));
  let c = Buffer.from(object(claims));
  if (!clean && r.chance(0.15)) {
    if (r.chance(0.5)) h = g.mutateJsonText(h);
    else c = g.mutateJsonText(c);
  }
  let input = signingInput(h, c);
  let token;
  const who = clean ? 0 : r.below(10);
  if (who <= 3) {
    g.note("re-signed with the real key");
    token = `${input}.${b64(row.sign(input))}`;
  } else if (who <= 6) {
    token = `${input}.${sig0}`;
  } else if (who === 7) {
    g.note("signed with a forger's key");
    token = `${input}.${b64(row.forge(input))}`;
  } else {
    // Algorithm confusion: HS256 keyed with a public key (raw bytes or its base64url).
    const victim = r.pick(ROWS.filter((x) => x.publicBytes));
    set(header, "alg", '"HS256"');
    set(header, "kid", js(victim.kid));
    h = Buffer.from(object(header));
    input = signingInput(h, c);
    const secret = r.chance(0.5) ? victim.publicBytes : Buffer.from(b64(victim.publicBytes));
    g.note(`HS256 keyed with the public key of ${victim.kid}`);
    token = `${input}.${b64(createHmac("sha256", secret).update(input).digest())}`;
  }
  if (!clean && r.chance(0.45)) {
    for (let i = r.below(2); i >= 0; i--) token = g.mutateToken(token, otherSig);
  }
  return { token, opts, keyset, log: g.log };
}

// ---------------------------------------------------------------------------------------------
// The two verifiers.

function jwtedgeVerdict({ token, opts, keyset }) {
  return verifyWithKeyset(token, KEYSET_TEXT[keyset], { ...opts, nowSeconds: NOW });
}

async function joseVerdict({ token, opts, keyset }) {
  const options = {
    algorithms: opts.algorithms ?? ALGS,
    clockTolerance: opts.leewaySeconds,
    currentDate: new Date(NOW * 1000),
    // SPEC §4: access tokens must expire; jose's own default is "exp optional".
    requiredClaims: ["exp", ...(opts.requiredClaims ?? [])],
  };
  if (opts.issuer !== undefined) options.issuer = opts.issuer;
  if (opts.audience !== undefined) options.audience = opts.audience;
  if (opts.tokenType !== undefined) options.typ = opts.tokenType;
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, RESOLVERS[keyset], options);
    return { ok: true, payload, protectedHeader };
  } catch (error) {
    return { ok: false, error: error.code ?? error.message };
  }
}

// ---------------------------------------------------------------------------------------------
// Deliberate divergences: name, the SPEC line that causes it, what jwtedge answers, and a
// recogniser that looks at the token (not at how it was made). Each applies only where jose
// accepts and jwtedge refuses with one of the listed reasons.

const decodePart = (part) => {
  try {
    return Buffer.from(jose.base64url.decode(part));
  } catch {
    return undefined;
  }
};
const parseJson = (bytes) => {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
};

/// The top-level member names of a JSON object text, in order, duplicates kept (names unescaped).
function topLevelNames(text) {
  const names = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const literal = text.slice(i, j + 1);
      let k = j + 1;
      while (/\s/.test(text[k] ?? "")) k++;
      if (depth === 1 && text[k] === ":") {
        try {
          names.push(JSON.parse(literal));
        } catch {
          // not a valid name: the parsers refuse the text anyway
        }
      }
      i = j;
    } else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
  }
  return names;
}

function nestingDepth(text) {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    } else if (ch === "{" || ch === "[") max = Math.max(max, ++depth);
    else if (ch === "}" || ch === "]") depth--;
  }
  return max;
}

const isCanonicalB64 = (part) => /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 && b64(Buffer.from(part, "base64url")) === part;
const ACCEPTED_TYP = (typ) => ["at+jwt", "jwt"].includes(typ.toLowerCase().replace(/^application\//, ""));
const REGISTERED_HEADER = ["alg", "kid", "typ", "crit"];
const REGISTERED_CLAIMS = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid"];

function context(token) {
  const parts = token.split(".");
  const [hb, cb] = [decodePart(parts[0] ?? ""), decodePart(parts[1] ?? "")];
  const text = (b) => (b ? new TextDecoder().decode(b) : "");
  return { token, parts, header: hb && parseJson(hb), claims: cb && parseJson(cb), headerBytes: hb, claimsBytes: cb, headerText: text(hb), claimsText: text(cb) };
}

const DIVERGENCES = [
  {
    name: "over-size-limit",
    spec: "§4 `too_large`: the token is over the size limit (checked before anything else); default 8 KiB.",
    why: "jose has no size limit; jwtedge refuses a token over `maxTokenBytes` before reading it.",
    jwtedge: ["too_large"],
    applies: (x) => Buffer.byteLength(x.token) > 8192,
  },
  {
    name: "typ-not-an-access-token",
    spec: "§2: Verifier accepts `typ` `at+jwt`, `JWT` or absent, unless configured stricter.",
    why: "jose checks `typ` only when asked for one value; jwtedge's default accepts the three forms of an access token and refuses the rest (RFC 9068 §4 asks verifiers to check typ).",
    jwtedge: ["invalid_type"],
    applies: (x, opts) => opts.tokenType === undefined && typeof x.header?.typ === "string" && !ACCEPTED_TYP(x.header.typ),
  },
  {
    name: "ill-typed-header-member",
    spec: "§4 `malformed`: header … not a JSON object; RFC 7515 §4.1.9: `typ` is a string.",
    why: "jwtedge reads `typ` as a string (a number, array or null is malformed); jose ignores `typ` unless asked for one.",
    jwtedge: ["malformed"],
    applies: (x, opts) => opts.tokenType === undefined && x.header && "typ" in x.header && typeof x.header.typ !== "string",
  },
  {
    name: "crit-extension",
    spec: "§4 `unsupported_algorithm`: … unknown `crit` header.",
    why: "jose understands the `b64` extension (RFC 7797) when listed in `crit`; jwtedge understands no extension, so any `crit` is refused.",
    jwtedge: ["unsupported_algorithm"],
    applies: (x) => Array.isArray(x.header?.crit) && x.header.crit.length > 0,
  },
  {
    name: "duplicate-member",
    spec: "§4 `malformed` (header or claims not a JSON object); RFC 7515 §5.2 and RFC 7519 §4: duplicate names are rejected or last-wins.",
    why: "jwtedge refuses a JOSE header or claims set that names a registered member twice; jose's JSON.parse keeps the last one.",
    jwtedge: ["malformed"],
    applies: (x) => {
      const dup = (names, registered) => registered.some((r) => names.filter((n) => n === r).length > 1);
      return dup(topLevelNames(x.headerText), REGISTERED_HEADER) || dup(topLevelNames(x.claimsText), REGISTERED_CLAIMS);
    },
  },
  {
    name: "non-finite-numeric-date",
    spec: "§4 `malformed`: wrong claim types (`exp` must be a number).",
    why: "a NumericDate that overflows a double (`1e999`) is malformed in jwtedge; JSON.parse makes it ±Infinity, which jose compares (an `exp` of Infinity never expires).",
    jwtedge: ["malformed"],
    applies: (x) => ["exp", "nbf", "iat"].some((n) => typeof x.claims?.[n] === "number" && !Number.isFinite(x.claims[n])),
  },
  {
    name: "byte-order-mark",
    spec: "§4 `malformed`: header or claims not a JSON object (RFC 8259 §8.1: no BOM in JSON text).",
    why: "jose's TextDecoder drops a leading U+FEFF before JSON.parse; jwtedge reads the bytes as they are.",
    jwtedge: ["malformed"],
    applies: (x) => [x.headerBytes, x.claimsBytes].some((b) => b && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf),
  },
  {
    name: "lenient-base64url",
    spec: "§4 `malformed`: bad base64url (padding, `+`, `/`).",
    why: "jose (atob on Node 20) takes padding, whitespace and non-zero trailing bits in the signature; jwtedge accepts exactly one spelling of each part.",
    jwtedge: ["malformed"],
    // Only the signature: the header and payload texts are what was signed, so a re-spelt one
    // cannot verify in jose either.
    applies: (x) => x.parts.length === 3 && isCanonicalB64(x.parts[0]) && isCanonicalB64(x.parts[1]) && !isCanonicalB64(x.parts[2]),
  },
  {
    name: "deep-nesting",
    spec: "§4 `malformed`: JSON nested deeper than 32 levels.",
    why: "jwtedge refuses deep JSON before parsing it (§9: nothing recurses without bound); JSON.parse has no such limit.",
    jwtedge: ["malformed"],
    applies: (x) => nestingDepth(x.headerText) > 32 || nestingDepth(x.claimsText) > 32,
  },
  {
    name: "registered-claim-type",
    spec: "§4 `malformed`: wrong claim types; §2 lists `sid` among the registered claims.",
    why: "jwtedge type-checks `iss`, `sub`, `aud`, `jti`, `sid` (strings; `aud` a string or an array of strings) whether or not it is asked to compare them, and null is not absent; jose checks a claim only when an expectation names it.",
    jwtedge: ["malformed"],
    applies: (x) => {
      const c = x.claims;
      if (!c || typeof c !== "object") return false;
      const wrongString = ["iss", "sub", "jti", "sid"].some((n) => n in c && typeof c[n] !== "string");
      const aud = c.aud;
      const wrongAud = "aud" in c && typeof aud !== "string" && !(Array.isArray(aud) && aud.every((a) => typeof a === "string"));
      return wrongString || wrongAud;
    },
  },
  {
    name: "unpaired-surrogate",
    spec: "§4 `malformed`: wrong claim types (a registered string must be Unicode text; RFC 8259 §8.2).",
    why: "jwtedge reads registered strings (`typ`, `iss`, `sub`, `aud`, `jti`, `sid`) as Unicode and refuses an unpaired surrogate escape (`\\ud800`); JSON.parse keeps it. Custom claims are passed through as written, in both.",
    jwtedge: ["malformed"],
    applies: (x) => {
      const lone = (v) => typeof v === "string" && /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v);
      const any = (v) => lone(v) || (Array.isArray(v) && v.some(lone));
      return any(x.header?.typ) || ["iss", "sub", "aud", "jti", "sid"].some((n) => any(x.claims?.[n]));
    },
  },
];

function classify(token, opts, edge) {
  const x = context(token);
  return DIVERGENCES.filter((d) => d.jwtedge.includes(edge.reason) && d.applies(x, opts)).map((d) => d.name);
}

// ---------------------------------------------------------------------------------------------

test(`jwtedge and jose agree on ${CASES} mutated tokens (${ALGS.join(", ")}), divergences by name`, async () => {
  const tally = { cases: 0, agreeOk: 0, agreeRefused: 0, byAlg: {}, okByAlg: {}, divergences: {} };
  const failures = [];
  for (let i = 0; i < CASES; i++) {
    const c = makeCase(SEED, i);
    const edge = jwtedgeVerdict(c);
    const ref = await joseVerdict(c);
    const edgeOk = edge.status === "OK";
    tally.cases++;
    const alg = context(c.token).header?.alg;
    if (ALGS.includes(alg)) tally.byAlg[alg] = (tally.byAlg[alg] ?? 0) + 1;
    if (edgeOk && ref.ok) {
      tally.agreeOk++;
      tally.okByAlg[alg] = (tally.okByAlg[alg] ?? 0) + 1;
      // Both accepted: the same claims, and the algorithm of the header.
      try {
        assert.deepEqual(edge.claims, ref.payload);
        assert.equal(edge.alg, ref.protectedHeader.alg);
      } catch (e) {
        failures.push({ i, c, edge, ref, why: `claims differ: ${e.message}` });
      }
      continue;
    }
    if (!edgeOk && !ref.ok) {
      tally.agreeRefused++;
      continue;
    }
    const names = edgeOk ? [] : classify(c.token, c.opts, edge);
    if (names.length === 0) {
      failures.push({ i, c, edge, ref, why: edgeOk ? "jwtedge OK, jose refused" : "jose accepted, jwtedge refused" });
      continue;
    }
    for (const n of names) tally.divergences[n] = (tally.divergences[n] ?? 0) + 1;
  }
  console.log(
    `differential_jose: ${tally.cases} cases, seed ${SEED} (JWTEDGE_DIFF_SEED=${SEED} replays); ` +
      `both OK ${tally.agreeOk}, both refused ${tally.agreeRefused}; ` +
      `cases by alg ${JSON.stringify(tally.byAlg)}, both OK by alg ${JSON.stringify(tally.okByAlg)}; ` +
      `divergences by name ${JSON.stringify(tally.divergences)}`,
  );
  if (failures.length) {
    const show = failures.slice(0, 5).map(({ i, c, edge, ref, why }) =>
      `case ${i}: ${why}\n  token ${c.token}\n  keyset ${c.keyset} options ${JSON.stringify(c.opts)}\n` +
        `  jwtedge ${JSON.stringify(edge)}\n  jose ${JSON.stringify(ref.ok ? "accepted" : ref.error)}\n  mutations ${JSON.stringify(c.log)}`);
    assert.fail(`${failures.length} disagreements (seed ${SEED}; JWTEDGE_DIFF_SEED=${SEED} replays):\n${show.join("\n")}`);
  }
  assert.ok(tally.cases >= Math.min(CASES, 10_000), "too few cases");
  // Not a vacuous agreement: valid tokens of every algorithm verified in both.
  for (const alg of ALGS) assert.ok((tally.okByAlg[alg] ?? 0) > 0, `no ${alg} token verified in both`);
});
