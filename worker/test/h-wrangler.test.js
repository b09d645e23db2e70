// The worker as wrangler sees it: `wrangler deploy --dry-run` bundles it offline, and
// `wrangler dev` with --var overrides runs it in local workerd in front of the real origin.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startOrigin } from "./helpers/origin.js";
import { startUpstream } from "./helpers/upstream.js";
import { freePort, runWrangler, startWranglerDev } from "./helpers/wrangler.js";
import { waitFor } from "./helpers/wait.js";

let origin, upstream;

before(async () => {
  origin = await startOrigin();
  upstream = await startUpstream();
});

after(async () => {
  await upstream?.close();
  await origin?.cleanup();
});

test("wrangler deploy --dry-run succeeds offline and bundles the package: its wasm module and its guard", async () => {
  const out = mkdtempSync(join(tmpdir(), "jwtedge-dry-run-"));
  try {
    const { code, output } = await runWrangler(["deploy", "--dry-run", "--outdir", out]);
    assert.equal(code, 0, output);
    assert.match(output, /--dry-run: exiting now/);
    const files = readdirSync(out);
    const wasm = files.find((f) => f.endsWith(".wasm"));
    assert.ok(wasm, `a .wasm module in the bundle: ${files.join(", ")}`);
    assert.ok(statSync(join(out, wasm)).size > 10_000);
    // The jwtedge package is a file: dependency (node_modules/jwtedge → ../pkg): wrangler followed
    // the link, and the guard's answers come from jwtedge/fetch (worker/src has no copy of them).
    const script = readFileSync(join(out, files.find((f) => f.endsWith(".js"))), "utf8");
    assert.match(script, /try refresh token/);
    assert.match(script, /keyset unavailable/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("wrangler dev with --var overrides guards the upstream with the real origin's keyset", async () => {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "jwtedge-wrangler-state-"));
  const dev = startWranglerDev([
    "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false",
    "--persist-to", state,
    "--var", `KEYSET_URL:${origin.keysetUrl}`,
    "--var", `UPSTREAM_URL:${upstream.url}`,
    "--var", "GUARDED_PATHS:/api",
  ]);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      () => fetch(`${base}/public`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false),
      { timeoutMs: 45_000, intervalMs: 250, what: `wrangler dev on ${base}` },
    ).catch((e) => {
      throw new Error(`${e.message}\n${dev.output}`);
    });
    const session = await origin.createSession("dev-user");
    const ok = await fetch(`${base}/api/x`, { headers: { authorization: `Bearer ${session.access_token}` } });
    assert.equal(ok.status, 200);
    assert.equal(upstream.requests.at(-1).headers["x-jwtedge-sub"], "dev-user");
    const none = await fetch(`${base}/api/x`);
    assert.equal(none.status, 401);
  } finally {
    await dev.stop();
    rmSync(state, { recursive: true, force: true });
  }
});
