// Keysets and tokens shaped like those of Auth0, Okta, Cognito, Firebase, Supabase, Clerk,
// Cloudflare Access and SuperTokens (tests/fixtures/issuers, fresh keys: tests/node/issuers.mjs),
// verified by pkg/ in Node through its Node entry, where node:crypto checks RSA and ECDSA
// synchronously (SPEC §3a): each is OK with its claims, tampered → bad_signature, expired →
// TRY_REFRESH_TOKEN/expired; through verifyWithKeyset and through a Verifier fetching the keyset.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import { Verifier, verifyWithKeyset } from "jwtedge";
import { issuerFixtures, materialise, tampered } from "./issuers.mjs";
import { keysetServer } from "./helpers.mjs";

const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

for (const fixture of issuerFixtures()) {
  test(`${fixture.provider}: OK, tampered, expired — verifyWithKeyset and Verifier`, async () => {
    const issuer = await materialise(fixture);
    const server = await keysetServer(issuer.jwks);
    servers.push(server);
    const verifier = new Verifier({ keysetUrl: server.url, ...fixture.options });
    const good = await issuer.mint();
    const cases = [
      [good, "OK"],
      [tampered(good), "UNAUTHORISED/bad_signature"],
      [await issuer.mint({ expired: true }), "TRY_REFRESH_TOKEN/expired"],
    ];
    for (const [token, expected] of cases) {
      const sync = verifyWithKeyset(token, issuer.jwks, fixture.options);
      assert.ok(!(sync instanceof Promise), "synchronous in Node: node:crypto needs no await");
      const code = (o) => (o.status === "OK" ? "OK" : `${o.status}/${o.reason}`);
      assert.equal(code(sync), expected, `verifyWithKeyset ${expected}`);
      const fetched = await verifier.verify(token);
      assert.deepEqual(fetched, sync, "Verifier agrees with verifyWithKeyset");
    }
    const ok = verifyWithKeyset(good, issuer.jwks, fixture.options);
    assert.equal(ok.alg, fixture.header.alg);
    assert.equal(ok.kid, fixture.header.kid);
    assert.deepEqual(
      Object.fromEntries(Object.entries(ok.claims).filter(([n]) => !fixture.time.includes(n))),
      fixture.claims,
      "the claims as the provider wrote them",
    );
    assert.equal(server.state.requests, 1, "one keyset fetch");
  });
}

test("SuperTokens: a token of the static key, and the kid-less fallback is not taken", async () => {
  const fixture = issuerFixtures().find((f) => f.name === "supertokens");
  const issuer = await materialise(fixture);
  const staticKey = issuer.keys[1];
  const token = await new jose.SignJWT({ ...fixture.claims, exp: Math.floor(Date.now() / 1000) + 60 })
    .setProtectedHeader({ ...fixture.header, kid: staticKey.published.kid })
    .sign(staticKey.privateKey);
  assert.equal(verifyWithKeyset(token, issuer.jwks, fixture.options).status, "OK");
  // Signed by the dynamic key but naming the static one: bad signature, not a fallback.
  const crossed = await new jose.SignJWT({ ...fixture.claims, exp: Math.floor(Date.now() / 1000) + 60 })
    .setProtectedHeader({ ...fixture.header, kid: staticKey.published.kid })
    .sign(issuer.keys[0].privateKey);
  assert.deepEqual(verifyWithKeyset(crossed, issuer.jwks, fixture.options), { status: "UNAUTHORISED", reason: "bad_signature" });
});

// Every RSA and ECDSA algorithm, with and without `alg` on the key (SPEC §3), ES512 included:
// node:crypto has P-521.
const ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
for (const alg of ALGS) {
  test(`${alg}: OK, bad_signature, expired, and the key's alg pins it`, async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const now = Math.floor(Date.now() / 1000);
    const mint = (exp, header = {}) =>
      new jose.SignJWT({ sub: "u", exp }).setProtectedHeader({ alg, kid: "k", ...header }).sign(privateKey);
    for (const keyAlg of [alg, undefined]) {
      const jwks = JSON.stringify({ keys: [{ ...jwk, kid: "k", ...(keyAlg ? { alg: keyAlg } : {}) }] });
      const v = (t) => verifyWithKeyset(t, jwks);
      assert.equal(v(await mint(now + 60)).status, "OK", `${alg} key alg ${keyAlg}`);
      assert.deepEqual(v(tampered(await mint(now + 60))), { status: "UNAUTHORISED", reason: "bad_signature" });
      assert.deepEqual(v(await mint(now - 1)), { status: "TRY_REFRESH_TOKEN", reason: "expired" });
    }
    // Another algorithm of the same family against a key pinned to this one.
    const other = { RS256: "PS256", PS256: "RS256", ES256: "ES384" }[alg];
    if (other) {
      const jwks = JSON.stringify({ keys: [{ ...jwk, kid: "k", alg }] });
      const forged = (await mint(now + 60)).split(".");
      const header = Buffer.from(JSON.stringify({ alg: other, kid: "k" })).toString("base64url");
      assert.deepEqual(verifyWithKeyset(`${header}.${forged[1]}.${forged[2]}`, jwks), {
        status: "UNAUTHORISED",
        reason: "unsupported_algorithm",
      });
    }
  });
}

test("ECDSA: a DER signature, a high-S signature and r = 0 are bad signatures, as in WebCrypto", async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] });
  const token = await new jose.SignJWT({ sub: "u", exp: Math.floor(Date.now() / 1000) + 60 })
    .setProtectedHeader({ alg: "ES256", kid: "k" })
    .sign(privateKey);
  const [h, p, s] = token.split(".");
  const raw = Buffer.from(s, "base64url");
  const derInt = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]);
  };
  const body = Buffer.concat([derInt(raw.subarray(0, 32)), derInt(raw.subarray(32))]);
  const der = Buffer.concat([Buffer.from([0x30, body.length]), body]);
  // s' = n - s: the same signature in high-S form. WebCrypto (and node:crypto) accept it, as jose
  // does; the verdict is the runtime's, and must equal jose's.
  const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  const sValue = BigInt(`0x${raw.subarray(32).toString("hex")}`);
  const highS = Buffer.concat([raw.subarray(0, 32), Buffer.from((n - sValue).toString(16).padStart(64, "0"), "hex")]);
  const zeroR = Buffer.concat([Buffer.alloc(32), raw.subarray(32)]);
  const v = (sig) => verifyWithKeyset(`${h}.${p}.${sig.toString("base64url")}`, jwks);
  assert.equal(v(raw).status, "OK");
  assert.deepEqual(v(der), { status: "UNAUTHORISED", reason: "bad_signature" });
  assert.deepEqual(v(zeroR), { status: "UNAUTHORISED", reason: "bad_signature" });
  const joseHighS = await jose
    .jwtVerify(`${h}.${p}.${highS.toString("base64url")}`, await jose.importJWK(JSON.parse(jwks).keys[0], "ES256"))
    .then(() => "OK", () => "UNAUTHORISED");
  assert.equal(v(highS).status, joseHighS, "high-S: the same verdict as jose over WebCrypto");
});

test("RSA keys under 2048 bits are skipped; a keyset of only those is invalid_keyset", async () => {
  const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const big = await jose.generateKeyPair("RS256", { extractable: true });
  const smallJwk = { ...small.publicKey.export({ format: "jwk" }), kid: "small", alg: "RS256" };
  const bigJwk = { ...(await jose.exportJWK(big.publicKey)), kid: "big", alg: "RS256" };
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${b64({ alg: "RS256", kid: "small" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
  const token = `${input}.${sign("sha256", Buffer.from(input), small.privateKey).toString("base64url")}`;
  assert.deepEqual(verifyWithKeyset(token, JSON.stringify({ keys: [smallJwk] })), { status: "KEYSET_UNAVAILABLE", reason: "invalid_keyset" });
  assert.deepEqual(verifyWithKeyset(token, JSON.stringify({ keys: [smallJwk, bigJwk] })), { status: "TRY_REFRESH_TOKEN", reason: "unknown_key" });
});

// docs/ISSUERS.md: each provider's options block is the one these fixtures test.
test("docs/ISSUERS.md: every provider's snippet has the options its fixture tests", () => {
  const doc = readFileSync(new URL("../../docs/ISSUERS.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/<!-- fixture: ([a-z0-9-]+) -->\n```js\n([\s\S]*?)\n```/g)];
  const fixtures = issuerFixtures();
  assert.deepEqual(blocks.map((b) => b[1]).sort(), fixtures.map((f) => f.name).sort(), "one snippet per fixture");
  for (const [, name, code] of blocks) {
    const fixture = fixtures.find((f) => f.name === name);
    let options;
    new Function("Verifier", code.replace(/\/\/ then:.*$/m, ""))(function (o) { options = o; });
    const { keysetUrl, ...rest } = options;
    assert.equal(keysetUrl, fixture.published_at, `${name}: keysetUrl`);
    assert.deepEqual(rest, fixture.options, `${name}: options`);
    assert.doesNotThrow(() => new Verifier(options), `${name}: valid options`);
  }
});
