// The package README's examples, run as written (issue 10, point 3): the Workers, jwtedge/fetch
// and Hono examples bundled by wrangler and run in workerd, the browser example in headless
// Chromium, the Node example in node. They import the package installed in this folder
// (node_modules/jwtedge, a file: dependency on pkg/) and talk to https://auth.example.com, which
// each harness answers from issuer.mjs. The README read is pkg/README.md, the one npm pack ships.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { KEYSET_URL, makeIssuer } from "./issuer.mjs";
import { readmeExamples, writeExample } from "./readme.mjs";
import { exerciseWorker } from "./worker-checks.mjs";
import { withTimeout } from "./workerd.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE = path.join(here, "node_modules", "jwtedge");
const README = path.join(PACKAGE, "README.md");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let issuer, examples, work;

before(async () => {
  // The README npm pack ships is the one written in js/: a stale pkg/ would test an old text.
  const source = readFileSync(path.join(here, "..", "..", "js", "README.md"), "utf8");
  assert.equal(readFileSync(README, "utf8"), source, "pkg/README.md differs from js/README.md: run bash scripts/build-pkg.sh");
  examples = readmeExamples(README);
  assert.deepEqual(Object.keys(examples).sort(), ["browser", "fetch", "hono", "node", "workers"]);
  issuer = await makeIssuer();
  mkdirSync(path.join(here, ".work"), { recursive: true });
  // Inside this folder, so `jwtedge` and `hono` resolve to node_modules here, as in a project.
  work = mkdtempSync(path.join(here, ".work", "examples-"));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("Workers examples in workerd (wrangler deploy --dry-run bundle)", () => {
  test("Workers: jwtedge/workers, outcomes by status", async () => {
    const dir = writeExample(examples, "workers", path.join(work, "workers"));
    await exerciseWorker(dir, issuer, {
      guarded: "/",
      okBody: (body) => assert.deepEqual(body, { hello: "alice", kid: issuer.kid }),
      guardAnswers: false,
    });
  });

  test("jwtedge/fetch: guard answers 401/503 as the worker does", async () => {
    const dir = writeExample(examples, "fetch", path.join(work, "fetch"));
    await exerciseWorker(dir, issuer, {
      guarded: "/",
      okBody: (body) => assert.deepEqual(body, { hello: "alice" }),
      guardAnswers: true,
    });
  });

  test("Hono: jwtedge/hono middleware, claims on the context, public route untouched", async () => {
    const dir = writeExample(examples, "hono", path.join(work, "hono"));
    await exerciseWorker(dir, issuer, {
      guarded: "/api/me",
      unguarded: { path: "/", text: "public" },
      okBody: (body) => assert.deepEqual(body, { sub: "alice" }),
      guardAnswers: true,
    });
  });
});

test("browser example in headless Chromium: init() loads the .wasm, the page shows the outcome", async () => {
  const dir = writeExample(examples, "browser", path.join(work, "browser"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(realpathSync(PACKAGE), path.join(dir, "node_modules", "jwtedge"));
  const server = await serveStatic(dir);
  const browser = await withTimeout(
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
    30_000,
    "chromium launch",
  );
  try {
    const seen = async (token) => {
      const context = await browser.newContext();
      let keysetRequests = 0;
      await context.route(KEYSET_URL, async (route) => {
        keysetRequests++;
        const res = issuer.answer(route.request().url());
        await route.fulfill({ status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() });
      });
      await context.addInitScript((t) => sessionStorage.setItem("access_token", t), token);
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const wasm = page.waitForResponse((r) => r.url().endsWith("/node_modules/jwtedge/jwtedge_bg.wasm"), { timeout: 15_000 });
      await page.goto(`${server.url}/index.html`);
      assert.equal((await wasm).status(), 200);
      await page.waitForFunction(() => document.querySelector("#who")?.textContent !== "checking…", null, { timeout: 15_000 });
      const text = await page.textContent("#who");
      await context.close();
      assert.deepEqual(errors, []);
      assert.equal(keysetRequests, 1);
      return text;
    };
    assert.equal(await seen(await issuer.token("alice")), "signed in as alice");
    assert.equal(await seen(await issuer.expiredToken()), "TRY_REFRESH_TOKEN: expired");
    assert.equal(await seen(await issuer.forgedToken()), "UNAUTHORISED: bad_signature");
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
});

test("Node example: no init, the outcome printed", async () => {
  const dir = writeExample(examples, "node", path.join(work, "node"));
  const run = (token) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--import", path.join(here, "node-fetch-hook.mjs"), "check-token.mjs", token],
        { cwd: dir, env: { ...process.env, JWTEDGE_TEST_JWKS: issuer.jwks }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
      );
    });
  const ok = await run(await issuer.token("alice"));
  assert.equal(ok.stdout, `OK: alice (key ${issuer.kid}, EdDSA)\n`, ok.stderr);
  assert.equal(ok.code, 0);
  const expired = await run(await issuer.expiredToken());
  assert.equal(expired.stdout, "TRY_REFRESH_TOKEN: expired\n", expired.stderr);
  assert.equal(expired.code, 1);
  const forged = await run(await issuer.forgedToken());
  assert.equal(forged.stdout, "UNAUTHORISED: bad_signature\n", forged.stderr);
});

/** Serves `dir` (following its node_modules symlink) on loopback. */
async function serveStatic(dir) {
  const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm" };
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
