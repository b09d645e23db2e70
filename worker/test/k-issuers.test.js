// Provider-shaped keysets and tokens (tests/fixtures/issuers: Auth0, Okta, Cognito, Firebase,
// Supabase, Clerk, Cloudflare Access, SuperTokens; fresh keys, tokens minted with jose by
// tests/node/issuers.mjs) verified by pkg/ inside workerd, where RSA and ECDSA signatures are
// checked by the runtime's WebCrypto (SPEC §3a): OK, tampered → bad_signature, expired →
// TRY_REFRESH_TOKEN/expired, through a Verifier fetching the keyset and through verifyWithKeyset
// (which answers a promise here: WebCrypto is asynchronous).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import { WORKER_DIR, startEdge } from "./helpers/edge.js";
import { issuerFixtures, jose, materialise, tampered } from "../../tests/node/issuers.mjs";

let probe;
let nextId = 0;
const servers = [];

before(async () => {
  probe = await startEdge({ probe: {} }, { scriptPath: join(WORKER_DIR, "test", "helpers", "issuer-probe.js") });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await probe?.dispose();
});

/** A loopback server answering `body` as the keyset, counting requests. */
async function keysetServer(body) {
  const s = { requests: 0 };
  const srv = http.createServer((req, res) => {
    s.requests++;
    res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" });
    res.end(body);
  });
  srv.keepAliveTimeout = 100;
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${srv.address().port}/.well-known/jwks.json`;
  s.close = () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); });
  return s;
}

async function post(path, body) {
  const res = await probe.fetchFrom("probe", path, { method: "POST", body: JSON.stringify(body) });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const code = (o) => (o.status === "OK" ? "OK" : `${o.status}/${o.reason}`);

for (const fixture of issuerFixtures()) {
  test(`workerd: ${fixture.provider}: OK, tampered, expired (WebCrypto)`, async () => {
    const issuer = await materialise(fixture);
    const server = await keysetServer(issuer.jwks);
    servers.push(server);
    const id = ++nextId;
    const options = { keysetUrl: server.url, ...fixture.options };
    const good = await issuer.mint();
    for (const [token, expected] of [
      [good, "OK"],
      [tampered(good), "UNAUTHORISED/bad_signature"],
      [await issuer.mint({ expired: true }), "TRY_REFRESH_TOKEN/expired"],
    ]) {
      const { outcome } = await post("/verify", { id, options, token });
      assert.equal(code(outcome), expected, `Verifier: ${expected}`);
      const direct = await post("/verify-with-keyset", { jwks: issuer.jwks, options: fixture.options, token });
      assert.deepEqual(direct.outcome, outcome, "verifyWithKeyset agrees with the Verifier");
      assert.equal(direct.promised, true, "verifyWithKeyset answers a promise when WebCrypto checks");
      if (expected === "OK") {
        assert.equal(outcome.kid, fixture.header.kid);
        assert.equal(outcome.alg, fixture.header.alg);
        assert.equal(outcome.claims.sub, fixture.claims.sub);
      }
    }
    assert.equal(server.requests, 1, "one keyset fetch");
  });
}

test("workerd: every RSA and ECDSA algorithm, ES512 (P-521) included", async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const alg of ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] });
    const token = await new jose.SignJWT({ sub: "u", exp: now + 60 }).setProtectedHeader({ alg, kid: "k" }).sign(privateKey);
    const ok = await post("/verify-with-keyset", { jwks, token });
    assert.equal(code(ok.outcome), "OK", alg);
    const bad = await post("/verify-with-keyset", { jwks, token: tampered(token) });
    assert.equal(code(bad.outcome), "UNAUTHORISED/bad_signature", alg);
  }
});
