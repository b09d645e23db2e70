// Starts cgi_upstream.py (Python's wsgiref, a CGI/WSGI-style upstream) on loopback, and sends raw
// requests: node:http sends a path exactly as written (fetch would normalise it first).
import { spawn } from "node:child_process";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withTimeout } from "./edge.js";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "cgi_upstream.py");
export const GUARDED_MARKER = "GUARDED-CONTENT-7f3a";

export async function startCgiUpstream() {
  const child = spawn(process.env.PYTHON ?? "python3", [SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
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
      child.on("error", (e) => reject(new Error(`python3 (needed for the CGI-style upstream): ${e.message}`)));
      child.on("exit", (code) => reject(new Error(`cgi_upstream.py exited (${code}): ${stderr}`)));
    }),
    10_000,
    "cgi_upstream.py start",
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return {
    url,
    /** Every request the upstream has seen: {raw_uri, path_info, routed, guarded, identity}. */
    async log() {
      return (await fetch(`${url}/__log`)).json();
    },
    async close() {
      child.kill("SIGTERM");
      await withTimeout(exited, 5_000, "cgi_upstream.py exit").catch(() => child.kill("SIGKILL"));
    },
  };
}

/** GET `path` (sent byte for byte) from `base`; `{status, text, json}`. */
export function rawGet(base, path, headers = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: "GET", headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${path}: no answer within 15 s`)));
    req.end();
  });
}
