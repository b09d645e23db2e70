// The worker in real workerd, through miniflare's API. Several workers (isolates) may run side by
// side in one runtime and share its Cache API, like isolates of one colo. What runs is the
// worker's bundle (bundle.js: as wrangler bundles it, with the jwtedge package resolved).
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "./bundle.js";

export const WORKER_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// The same compatibility settings as wrangler.toml (read from it, so they cannot drift).
const WRANGLER_TOML = readFileSync(join(WORKER_DIR, "wrangler.toml"), "utf8");
const COMPATIBILITY_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(WRANGLER_TOML)[1];
const COMPATIBILITY_FLAGS = JSON.parse(/^compatibility_flags\s*=\s*(\[.*\])/m.exec(WRANGLER_TOML)?.[1] ?? "[]");

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function workerOptions(name, bindings, bundle) {
  return {
    name,
    modules: true,
    modulesRoot: bundle.dir,
    scriptPath: bundle.scriptPath,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    bindings: { EXPOSE_STATS: "true", ...bindings },
  };
}

/**
 * Starts workerd with one worker per entry of `workers` ({name: bindings}); the first one answers
 * on the returned `url`. `fetchFrom(name, path, init)` reaches any of them. With `captureLogs`,
 * the workers' console lines are kept in `logs` ({level, message}) instead of printed.
 */
export async function startEdge(workers, { log = false, scriptPath, captureLogs = false } = {}) {
  const names = Object.keys(workers);
  const logs = [];
  const bundle = await bundleWorker(scriptPath ?? join(WORKER_DIR, "src", "index.js"));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    verbose: log || process.env.WORKER_TEST_VERBOSE === "1",
    ...(captureLogs ? { handleStructuredLogs: (entry) => void logs.push(entry) } : {}),
    workers: names.map((n) => workerOptions(n, workers[n], bundle)),
  });
  let url;
  try {
    url = await withTimeout(mf.ready, 30_000, "workerd start");
  } catch (e) {
    await withTimeout(mf.dispose(), 5_000, "dispose").catch(() => {});
    throw e;
  }
  const base = url.href.replace(/\/$/, "");
  const fetchers = new Map();
  return {
    url: base,
    mf,
    logs,
    async fetchFrom(name, path, init) {
      if (!fetchers.has(name)) fetchers.set(name, await mf.getWorker(name));
      return fetchers.get(name).fetch(`http://edge.test${path}`, init);
    },
    /** The captured log lines from index `from` on, once one matches `pattern` (they arrive late). */
    async logsMatching(pattern, { from = 0, timeoutMs = 3_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = logs.slice(from).map((l) => l.message).join("\n");
        if (pattern.test(lines) || Date.now() > deadline) return lines;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stats(name = names[0]) {
      const res = await this.fetchFrom(name, "/__jwtedge/stats");
      return res.json();
    },
    async dispose() {
      await withTimeout(mf.dispose(), 10_000, "workerd dispose").catch(() => {});
    },
  };
}
