// Interop: an independent JOSE implementation (the npm package `jose`) accepts the key
// origin's EdDSA access tokens, with `createRemoteJWKSet` pointed at a real `jwtedge-origin`
// on loopback. The binary comes from JWTEDGE_ORIGIN_BIN, else the newest of
// {$CARGO_TARGET_DIR,target}/{debug,release}/jwtedge-origin (build it first:
// `cargo build --bin jwtedge-origin`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ADMIN = "jose-admin-token-5d0c2f17a3";
const API = "jose-api-key-91b7e04c2d";
const ISSUER = "https://origin.jose.test";

function originBin() {
  if (process.env.JWTEDGE_ORIGIN_BIN) return process.env.JWTEDGE_ORIGIN_BIN;
  const targets = [process.env.CARGO_TARGET_DIR, path.join(root, "target")].filter(Boolean);
  const found = targets
    .flatMap((t) => ["debug", "release"].map((p) => path.join(path.resolve(root, t), p, "jwtedge-origin")))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!found.length) {
    throw new Error(
      "jwtedge-origin not found: run `cargo build --bin jwtedge-origin` or set JWTEDGE_ORIGIN_BIN",
    );
  }
  return found[0];
}

let child;
let base;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "jwtedge-jose-"));
  child = spawn(originBin(), ["serve"], {
    env: {
      JWTEDGE_LISTEN: "127.0.0.1:0",
      JWTEDGE_DATA_DIR: dataDir,
      JWTEDGE_API_KEY: API,
      JWTEDGE_ADMIN_TOKEN: ADMIN,
      JWTEDGE_ISSUER: ISSUER,
      JWTEDGE_ROTATION_INTERVAL: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`origin did not start:\n${stderr}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.:]+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited with ${code}:\n${stderr}`));
    });
  });
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function call(method, p, { auth, body } = {}) {
  const res = await fetch(base + p, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

async function newToken(sub) {
  const r = await call("POST", "/sessions", { auth: API, body: { sub, claims: { plan: "pro" } } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function keysetFetches() {
  const r = await fetch(`${base}/metrics`);
  const m = (await r.text()).match(/^jwtedge_keyset_served_total\{status="200"\} (\d+)$/m);
  return Number(m[1]);
}

const expectations = () => ({
  issuer: ISSUER,
  audience: "api",
  typ: "at+jwt",
  algorithms: ["EdDSA"],
  requiredClaims: ["exp", "iat", "jti", "sid", "sub"],
});

test("jose createRemoteJWKSet accepts the origin's EdDSA tokens, across a rotation", async () => {
  const JWKS = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  const s = await newToken("alice");
  const { payload, protectedHeader } = await jose.jwtVerify(s.access_token, JWKS, expectations());
  assert.equal(protectedHeader.alg, "EdDSA");
  assert.equal(protectedHeader.typ, "at+jwt");
  assert.equal(payload.sub, "alice");
  assert.equal(payload.sid, s.session_id);
  assert.equal(payload.plan, "pro");
  assert.equal(payload.exp, s.access_token_expires_at);
  const keys = (await call("GET", "/keys", { auth: ADMIN })).json;
  assert.equal(protectedHeader.kid, keys.current);
  const fetchesBefore = await keysetFetches();
  assert.ok(fetchesBefore >= 1);

  // Rotate: the new current key was published as `next`, so jose already holds it and
  // verifies the new token without going back to the origin.
  const rotated = await call("POST", "/keys/rotate", { auth: ADMIN });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(rotated.json.current, keys.next);
  const s2 = await newToken("bob");
  const v2 = await jose.jwtVerify(s2.access_token, JWKS, expectations());
  assert.equal(v2.protectedHeader.kid, keys.next);
  assert.equal(v2.payload.sub, "bob");
  assert.equal(await keysetFetches(), fetchesBefore, "no refetch needed after a rotation");
  // The old token still verifies: its key is `previous`, still published.
  await jose.jwtVerify(s.access_token, JWKS, expectations());

  // A tampered token fails jose's signature check.
  const [h, p, sig] = s2.access_token.split(".");
  const forged = JSON.parse(Buffer.from(p, "base64url"));
  forged.sub = "admin";
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${sig}`;
  await assert.rejects(jose.jwtVerify(tampered, JWKS, expectations()), {
    code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  });
});

test("a revoked key's tokens find no key in a fresh jose keyset", async () => {
  const s = await newToken("carol");
  const { kid } = jose.decodeProtectedHeader(s.access_token);
  const r = await call("POST", `/keys/${kid}/revoke`, { auth: ADMIN });
  assert.equal(r.status, 200, r.text);
  const JWKS = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  await assert.rejects(jose.jwtVerify(s.access_token, JWKS, expectations()), {
    code: "ERR_JWKS_NO_MATCHING_KEY",
  });
  // The replacement signs at once and verifies.
  const s2 = await newToken("carol");
  const v = await jose.jwtVerify(s2.access_token, JWKS, expectations());
  assert.notEqual(v.protectedHeader.kid, kid);
});
