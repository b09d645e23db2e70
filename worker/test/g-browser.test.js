// g. In a real browser (Debian's headless Chromium, driven by playwright-core): a page whose
//    client code implements the refresh flow keeps showing data across an emergency rotation
//    without showing an error. A screenshot is saved to test-output/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";
import { WORKER_DIR, startEdge, withTimeout } from "./helpers/edge.js";
import { OUTPUT_DIR, kidOf, startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PAGE_DIR = join(WORKER_DIR, "test", "fixtures", "browser");
const SCREENSHOT = join(OUTPUT_DIR, "browser-rotation.png");
let origin, upstream, edge, browser, profile; // browser: a persistent BrowserContext

async function appRoutes(req, res, seen) {
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  if (seen.path === "/app/" || seen.path === "/app/client.js") {
    const file = seen.path.endsWith(".js") ? "client.js" : "index.html";
    send(200, file.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8", readFileSync(join(PAGE_DIR, file)));
    return true;
  }
  // The app's own auth routes: the server holds the API key; refresh goes to the origin.
  if (seen.path === "/auth/login" && seen.method === "POST") {
    const { sub } = JSON.parse(seen.body);
    send(200, "application/json", JSON.stringify(await origin.createSession(sub)));
    return true;
  }
  if (seen.path === "/auth/refresh" && seen.method === "POST") {
    const r = await origin.refresh(JSON.parse(seen.body).refresh_token);
    send(r.status, "application/json", r.text);
    return true;
  }
  return false;
}

before(async () => {
  origin = await startOrigin({ JWTEDGE_KEYSET_MAX_AGE: "2s" });
  upstream = await startUpstream(appRoutes);
  edge = await startEdge({
    edge: { KEYSET_URL: origin.keysetUrl, UPSTREAM_URL: upstream.url, GUARDED_PATHS: "/api", MIN_FRESH_SECONDS: "1" },
  });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), "jwtedge-chromium-"));
  browser = await withTimeout(
    // A fresh profile directory per run (playwright-core passes it as --user-data-dir).
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 900, height: 360 },
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
});

after(async () => {
  await browser?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  await edge?.dispose();
  await upstream?.close();
  await origin?.cleanup();
});

test("the page keeps showing data across an emergency rotation, refreshing once, never showing an error", async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} (bash scripts/setup.sh browser)`);
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(`${edge.url}/app/`, { timeout: 15_000 });
  await page.waitForFunction(() => window.__app?.ok >= 5, null, { timeout: 15_000 });

  const session = await page.evaluate(() => window.__app.session);
  const revoked = kidOf(session.access_token);
  const result = await origin.revoke(revoked);
  assert.equal(result.was, "current");

  // Within one max-age the edge refuses the old token; the page refreshes once and carries on.
  await page.waitForFunction(() => window.__app.refreshes >= 1, null, { timeout: 10_000 });
  const okAtRefresh = await page.evaluate(() => window.__app.ok);
  await page.waitForFunction((n) => window.__app.ok >= n + 10, okAtRefresh, { timeout: 15_000 });

  const state = await page.evaluate(() => ({ ...window.__app, session: undefined }));
  const shown = await page.evaluate(() => ({
    data: document.getElementById("data").textContent,
    kid: document.getElementById("kid").textContent,
    errorVisible: getComputedStyle(document.getElementById("error")).display !== "none",
  }));
  await page.screenshot({ path: SCREENSHOT });
  t.diagnostic(`page state: ${JSON.stringify(state)}; showing: ${JSON.stringify(shown)}; screenshot: ${SCREENSHOT}`);
  state.running = false;
  await page.evaluate(() => (window.__app.running = false));

  assert.equal(state.errors, 0, "no error was ever shown");
  assert.equal(state.errorShown, false);
  assert.equal(shown.errorVisible, false);
  assert.equal(state.refreshes, 1, "exactly one refresh");
  assert.deepEqual(state.kids, [revoked, result.current], "data was shown under the old key, then the new one");
  assert.equal(shown.kid, result.current);
  assert.match(shown.data, /^Hello browser-user — item #\d+ from the upstream$/);
  assert.deepEqual(consoleErrors, []);
  assert.ok(statSync(SCREENSHOT).size > 1000, "a screenshot was saved");
});
