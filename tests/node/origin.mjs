// Starts and stops the real `jwtedge-origin` for the Node tests. The binary comes from
// JWTEDGE_ORIGIN_BIN, else the newest of {$CARGO_TARGET_DIR,target}/{debug,release}/jwtedge-origin
// (build it first: `cargo build --bin jwtedge-origin`).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function originBin() {
  if (process.env.JWTEDGE_ORIGIN_BIN) return process.env.JWTEDGE_ORIGIN_BIN;
  const targets = [process.env.CARGO_TARGET_DIR, path.join(root, "target")].filter(Boolean);
  const found = targets
    .flatMap((t) => ["debug", "release"].map((p) => path.join(path.resolve(root, t), p, "jwtedge-origin")))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!found.length) {
    throw new Error(
      "jwtedge-origin not found: run `cargo build --bin jwtedge-origin` or set JWTEDGE_ORIGIN_BIN",
    );
  }
  return found[0];
}

/// Starts `jwtedge-origin serve` on a free loopback port with its own data directory and `env`
/// (rotation off unless `env` says otherwise). Resolves once it prints where it listens.
export async function startOrigin(env = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "jwtedge-node-origin-"));
  const proc = spawn(originBin(), ["serve"], {
    env: {
      JWTEDGE_LISTEN: "127.0.0.1:0",
      JWTEDGE_DATA_DIR: dir,
      JWTEDGE_ROTATION_INTERVAL: "off",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`origin did not start:\n${stderr}`)), 20000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.:]+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited with ${code}:\n${stderr}`));
    });
  });
  return { proc, url, dir, port: Number(new URL(url).port) };
}

/// SIGTERM, wait for the exit, remove the data directory.
export async function stopOrigin({ proc, dir } = {}) {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}
