// Regenerates docs/console-keys.png, the key console's keys page as docs/ORIGIN.md shows it:
//   cargo build --bin jwtedge-origin && (cd tests/node && node console-screenshot.mjs)
// Starts the real origin with a fast schedule (a rotation every 20 s, tokens of 15 s) so that in
// about 70 s the timeline holds retired, previous, revoked, current and next keys, then signs in
// in headless Chromium and saves a full-page screenshot. Not part of the test command (it
// waits for real rotations); tests/node/console.test.mjs tests the page itself.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, stopOrigin } from "./origin.mjs";
import { launch, signIn } from "./console-browser.mjs";

const ADMIN = "screenshot-admin-token-3e8b1f5c";
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/console-keys.png");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const origin = await startOrigin({
  JWTEDGE_ADMIN_TOKEN: ADMIN,
  JWTEDGE_ROTATION_INTERVAL: "20s",
  JWTEDGE_ACCESS_TOKEN_TTL: "15s",
  JWTEDGE_LEEWAY: "1s",
  JWTEDGE_KEYSET_MAX_AGE: "10s",
});
let browser;
try {
  const admin = { authorization: `Bearer ${ADMIN}` };
  const keys = async () => (await fetch(`${origin.url}/keys`, { headers: admin })).json();
  // Edges revalidating every few seconds, so the edges page has figures too.
  let etag = null;
  const edge = setInterval(async () => {
    const r = await fetch(`${origin.url}/.well-known/jwks.json`, { headers: etag ? { "if-none-match": etag } : {} });
    etag = r.headers.get("etag") ?? etag;
    await r.arrayBuffer();
  }, 2000);
  console.error("waiting for scheduled rotations (about 70 s)…");
  await sleep(47_000);
  // An emergency revoke of the key that just stopped signing: drawn in red.
  const previous = (await keys()).keys.find((k) => k.state === "previous");
  if (previous) {
    await fetch(`${origin.url}/keys/${encodeURIComponent(previous.kid)}/revoke`, { method: "POST", headers: admin });
  }
  await sleep(22_000);
  clearInterval(edge);
  browser = await launch({ width: 1100, height: 900 });
  const page = await signIn(browser.context, origin.url, ADMIN);
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser?.close();
  await stopOrigin(origin);
}
