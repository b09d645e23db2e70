// Running wrangler offline and quiet (no metrics, no error reports, no cf fetch).
import { spawn } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { WORKER_DIR, withTimeout } from "./edge.js";

export const WRANGLER = join(WORKER_DIR, "node_modules", ".bin", "wrangler");
export const QUIET_ENV = {
  WRANGLER_SEND_METRICS: "false",
  DO_NOT_TRACK: "1",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  CI: "1",
};

/** Runs wrangler to completion: { code, output }. */
export function runWrangler(args, { timeoutMs = 60_000 } = {}) {
  const child = spawn(WRANGLER, args, { cwd: WORKER_DIR, env: { ...process.env, ...QUIET_ENV }, detached: true });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const done = new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
  return withTimeout(done, timeoutMs, `wrangler ${args.join(" ")}`).catch((e) => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    throw e;
  });
}

/** Starts `wrangler dev` in its own process group; `stop()` ends the group. */
export function startWranglerDev(args) {
  const child = spawn(WRANGLER, ["dev", ...args], {
    cwd: WORKER_DIR,
    env: { ...process.env, ...QUIET_ENV },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return {
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      await withTimeout(exited, 5_000, "wrangler dev stop").catch(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      });
    },
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
