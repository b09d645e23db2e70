// Provider-shaped keysets and tokens (tests/fixtures/issuers, fresh keys: tests/node/issuers.mjs)
// verified by pkg/ in a real browser (Debian's headless Chromium, driven by playwright-core),
// where RSA and ECDSA signatures are checked by the browser's WebCrypto (SPEC §3a): OK, tampered
// → bad_signature, expired → TRY_REFRESH_TOKEN/expired, through a Verifier fetching the keyset
// (same origin as the page) and through verifyWithKeyset (a promise here).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { WORKER_DIR } from "./helpers/edge.js";
import { issuerFixtures, materialise, tampered } from "../../tests/node/issuers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PKG = join(WORKER_DIR, "..", "pkg");
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import init, { Verifier, verifyWithKeyset } from "/pkg/jwtedge.js";
await init();
window.jwtedge = { Verifier, verifyWithKeyset };
</script>`;
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

let server, browser, page;
const keysets = new Map(); // path → JWKS text

before(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE);
    }
    if (keysets.has(path)) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      return res.end(keysets.get(path));
    }
    const file = normalize(join(PKG, path.replace(/^\/pkg\//, "")));
    if (path.startsWith("/pkg/") && file.startsWith(PKG) && existsSync(file)) {
      res.writeHead(200, { "content-type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream" });
      return res.end(readFileSync(file));
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.jwtedge !== undefined, null, { timeout: 20_000 });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
});

const code = (o) => (o.status === "OK" ? "OK" : `${o.status}/${o.reason}`);

for (const fixture of issuerFixtures()) {
  test(`Chromium: ${fixture.provider}: OK, tampered, expired (WebCrypto)`, async () => {
    const issuer = await materialise(fixture);
    const path = `/keys/${fixture.name}.json`;
    keysets.set(path, issuer.jwks);
    const good = await issuer.mint();
    const cases = [
      [good, "OK"],
      [tampered(good), "UNAUTHORISED/bad_signature"],
      [await issuer.mint({ expired: true }), "TRY_REFRESH_TOKEN/expired"],
    ];
    const results = await page.evaluate(
      async ({ path, jwks, options, tokens }) => {
        const verifier = new window.jwtedge.Verifier({ keysetUrl: new URL(path, location.href).href, ...options });
        const out = [];
        for (const token of tokens) {
          const answer = window.jwtedge.verifyWithKeyset(token, jwks, options);
          out.push({ fetched: await verifier.verify(token), direct: await answer, promised: answer instanceof Promise });
        }
        return out;
      },
      { path, jwks: issuer.jwks, options: fixture.options, tokens: cases.map(([t]) => t) },
    );
    results.forEach(({ fetched, direct, promised }, i) => {
      const expected = cases[i][1];
      assert.equal(code(fetched), expected, `Verifier: ${expected}`);
      assert.deepEqual(direct, fetched, "verifyWithKeyset agrees with the Verifier");
      assert.equal(promised, true, "verifyWithKeyset answers a promise when WebCrypto checks");
    });
    assert.equal(results[0].fetched.kid, fixture.header.kid);
  });
}
