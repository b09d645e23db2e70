// Headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH) driven by playwright-core,
// for the key console's tests and its screenshot script. Every request the page makes is
// recorded, so a test can show that nothing loads from outside the origin.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// As root on these machines Chromium needs these (docs: /work/shared/TOOLCHAIN.md).
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/// Launches Chromium with a fresh profile; `requests` collects every URL the pages ask for,
/// `failed` every answer ≥ 400 the pages got (`"401 http://…"`), `problems` every page error
/// and console error (a CSP violation is one) other than the failed loads.
export async function launch({ width = 1100, height = 900 } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (bash scripts/setup.sh browser)`);
  const profile = mkdtempSync(path.join(tmpdir(), "jwtedge-console-chromium-"));
  const context = await withTimeout(
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width, height },
      args: ARGS,
    }),
    30_000,
    "chromium launch",
  );
  const requests = [];
  const failed = [];
  const problems = [];
  context.on("request", (r) => requests.push(r.url()));
  context.on("requestfailed", (r) => failed.push(`failed ${r.url()}`));
  context.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  context.on("page", (p) => watch(p, problems));
  for (const p of context.pages()) watch(p, problems);
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, requests, failed, problems, close };
}

function watch(page, problems) {
  page.on("pageerror", (e) => problems.push(`pageerror: ${e}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });
}

/// Signs in at `base`/admin with `token`; resolves with the page, on the keys page.
export async function signIn(context, base, token) {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/admin`);
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(`${base}/admin/keys`), page.click("#sign-in button[type=submit]")]);
  return page;
}
