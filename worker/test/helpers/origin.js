// The real key origin, `jwtedge-origin serve`, on a free loopback port with a fresh data dir.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORKER_DIR, withTimeout } from "./edge.js";

export const ORIGIN_BIN =
  process.env.JWTEDGE_ORIGIN_BIN ?? join(WORKER_DIR, "..", "target", "debug", "jwtedge-origin");
export const OUTPUT_DIR = join(WORKER_DIR, "test-output");

const secret = (name) => `${name}-${Math.random().toString(36).slice(2)}-0123456789abcdef`;

/**
 * Starts the origin. `env` adds JWTEDGE_* settings. Returns a handle with the base URL, the
 * credentials, and the admin/session calls the tests need.
 */
export async function startOrigin(env = {}, { dataDir } = {}) {
  if (!existsSync(ORIGIN_BIN)) {
    throw new Error(`${ORIGIN_BIN} is missing: cargo build --bin jwtedge-origin (scripts/test-worker.sh does it)`);
  }
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const dir = dataDir ?? mkdtempSync(join(OUTPUT_DIR, "origin-"));
  const creds = {
    JWTEDGE_API_KEY: secret("api"),
    JWTEDGE_ADMIN_TOKEN: secret("admin"),
    JWTEDGE_EDGE_CREDENTIAL: secret("edge"),
  };
  const fullEnv = {
    ...process.env,
    JWTEDGE_LISTEN: "127.0.0.1:0",
    JWTEDGE_DATA_DIR: dir,
    JWTEDGE_ROTATION_INTERVAL: "off",
    JWTEDGE_LOG: "warn",
    ...creds,
    ...env,
  };
  const child = spawn(ORIGIN_BIN, ["serve"], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout.on("data", (d) => {
        stdout += d;
        const m = /listening on (http:\/\/[0-9.:]+)/.exec(stdout);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`jwtedge-origin exited (${code}): ${stderr}`)));
    }),
    15_000,
    "jwtedge-origin start",
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));

  const call = async (method, path, { token, body } = {}) => {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const ok = async (method, path, opts) => {
    const r = await call(method, path, opts);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  };

  return {
    url,
    keysetUrl: `${url}/.well-known/jwks.json`,
    dataDir: dir,
    ...creds,
    call,
    createSession: (sub, claims) =>
      ok("POST", "/sessions", { token: creds.JWTEDGE_API_KEY, body: claims ? { sub, claims } : { sub } }),
    refresh: (refreshToken) => call("POST", "/sessions/refresh", { body: { refresh_token: refreshToken } }),
    rotate: () => ok("POST", "/keys/rotate?force=true", { token: creds.JWTEDGE_ADMIN_TOKEN }),
    revoke: (kid) => ok("POST", `/keys/${encodeURIComponent(kid)}/revoke`, { token: creds.JWTEDGE_ADMIN_TOKEN }),
    keys: () => ok("GET", "/keys", { token: creds.JWTEDGE_ADMIN_TOKEN }),
    /** The value of one Prometheus sample, e.g. metric('jwtedge_key_events_total{event="scheduled_rotation"}'). */
    async metric(sample) {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
      return line ? Number(line.slice(sample.length + 1)) : 0;
    },
    async keysetServed() {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const get = (status) => {
        const m = new RegExp(`^jwtedge_keyset_served_total\\{status="${status}"\\} (\\d+)`, "m").exec(text);
        return m ? Number(m[1]) : 0;
      };
      return { ok: get(200), notModified: get(304), refused: get(401), total: get(200) + get(304) + get(401) };
    },
    get stderr() {
      return stderr;
    },
    /** SIGTERM and wait; SIGKILL after 5 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await withTimeout(exited, 5_000, "origin stop").catch(() => {
        child.kill("SIGKILL");
        return exited;
      });
    },
    async cleanup() {
      await this.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The kid in a JWS header. */
export function kidOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid;
}
