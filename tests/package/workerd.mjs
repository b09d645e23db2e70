// Runs a Worker project as its user would deploy it: `wrangler deploy --dry-run --outdir dist`
// bundles it (resolving `jwtedge/workers` through the package's exports, the .wasm as a module),
// then the bundle itself runs in workerd through miniflare's API. The Worker's outbound fetches
// (the keyset) are answered by `outbound`. Two isolates of the same bundle run side by side when
// asked (e.g. one whose issuer is down).
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const here = path.dirname(fileURLToPath(import.meta.url));
const WRANGLER = path.join(here, "node_modules", ".bin", "wrangler");
const QUIET = {
  WRANGLER_SEND_METRICS: "false",
  DO_NOT_TRACK: "1",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  CI: "1",
};

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `wrangler deploy --dry-run --outdir dist` in `dir`: `{ dist, files, output }`; throws on failure. */
export async function bundle(dir, { timeoutMs = 90_000 } = {}) {
  const child = spawn(WRANGLER, ["deploy", "--dry-run", "--outdir", "dist"], {
    cwd: dir,
    env: { ...process.env, ...QUIET },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await withTimeout(new Promise((resolve) => child.on("exit", resolve)), timeoutMs, "wrangler deploy --dry-run").catch((e) => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    throw e;
  });
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output}`);
  const dist = path.join(dir, "dist");
  const files = readdirSync(dist).map((name) => ({ name, bytes: statSync(path.join(dist, name)).size }));
  return { dist, files, output };
}

/**
 * Starts the bundle in `dist` in workerd, one isolate per entry of `isolates` ({ name: outbound },
 * `outbound(request) → Response` answering the Worker's fetches). Resolves to
 * `{ fetch(name, path, init), dispose() }`.
 */
export async function startBundle(dist, wranglerToml, isolates) {
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(wranglerToml, "utf8"))?.[1];
  if (!compatibilityDate) throw new Error(`${wranglerToml}: no compatibility_date`);
  const main = readdirSync(dist).find((f) => f.endsWith(".js"));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    workers: Object.entries(isolates).map(([name, outbound]) => ({
      name,
      modules: true,
      modulesRoot: dist,
      scriptPath: path.join(dist, main),
      modulesRules: [
        { type: "ESModule", include: ["**/*.js"] },
        { type: "CompiledWasm", include: ["**/*.wasm"] },
      ],
      compatibilityDate,
      outboundService: outbound,
    })),
  });
  try {
    await withTimeout(mf.ready, 30_000, "workerd start");
  } catch (e) {
    await withTimeout(mf.dispose(), 5_000, "workerd dispose").catch(() => {});
    throw e;
  }
  const workers = new Map();
  return {
    async fetch(name, urlPath, init) {
      if (!workers.has(name)) workers.set(name, await mf.getWorker(name));
      return workers.get(name).fetch(`https://api.example.com${urlPath}`, init);
    },
    async dispose() {
      await withTimeout(mf.dispose(), 10_000, "workerd dispose").catch(() => {});
    },
  };
}
