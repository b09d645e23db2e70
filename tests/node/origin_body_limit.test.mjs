// Oversized bodies against the real `jwtedge-origin` (issue 8, finding 10), with Node's plain
// `http` client: a declared Content-Length over the limit is answered 413 before any body is
// read, so a client that asked for `100-continue` never gets `continue` and never sends the
// body; and a client that sends 4 MiB anyway reads the 413 (the origin closes lingeringly)
// instead of EPIPE/ECONNRESET. The binary comes from JWTEDGE_ORIGIN_BIN, else the newest of
// {$CARGO_TARGET_DIR,target}/{debug,release}/jwtedge-origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const API = "body-limit-api-key-3c9e51a0";

function originBin() {
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

let child;
let port;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "jwtedge-body-limit-"));
  child = spawn(originBin(), ["serve"], {
    env: {
      JWTEDGE_LISTEN: "127.0.0.1:0",
      JWTEDGE_DATA_DIR: dataDir,
      JWTEDGE_API_KEY: API,
      JWTEDGE_ROTATION_INTERVAL: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  port = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`origin did not start:\n${stderr}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited with ${code}:\n${stderr}`));
    });
  });
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/// One POST /sessions with a fresh connection; resolves with what the client saw: the status
/// and body (if a response came), whether `continue` came, and every error event.
function post({ body, expectContinue }) {
  return new Promise((resolve) => {
    const seen = { status: null, body: "", continued: false, errors: [], sentBody: false };
    const headers = {
      Authorization: `Bearer ${API}`,
      "Content-Type": "application/json",
      "Content-Length": String(body.length),
    };
    if (expectContinue) headers.Expect = "100-continue";
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/sessions",
      headers,
      agent: false,
    });
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Errors that arrive just after the response still count: wait a moment for them.
      setTimeout(() => resolve(seen), 300);
    };
    const timer = setTimeout(() => {
      seen.errors.push("timeout: no response in 10 s");
      req.destroy();
      finish();
    }, 10000);
    req.on("error", (e) => {
      seen.errors.push(`${e.code || ""} ${e.message}`);
      finish();
    });
    req.on("continue", () => {
      seen.continued = true;
      seen.sentBody = true;
      req.end(body);
    });
    req.on("response", (res) => {
      seen.status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (d) => (seen.body += d));
      res.on("end", finish);
      res.on("error", (e) => seen.errors.push(`response ${e.code || ""} ${e.message}`));
    });
    if (expectContinue) {
      req.flushHeaders();
    } else {
      seen.sentBody = true;
      req.end(body);
    }
  });
}

test("a client that sends 4 MiB anyway reads the 413, not EPIPE", async () => {
  const body = Buffer.alloc(4 << 20, "a");
  // Several times: a lost answer is a race, and one lucky run proves little.
  for (let i = 0; i < 5; i++) {
    const seen = await post({ body, expectContinue: false });
    assert.deepEqual(seen.errors, [], `round ${i}: the client saw errors`);
    assert.equal(seen.status, 413, `round ${i}`);
    assert.equal(JSON.parse(seen.body).error, "payload_too_large");
  }
});

test("Expect: 100-continue with an oversized Content-Length gets 413 and never continue", async () => {
  const body = Buffer.alloc(4 << 20, "a");
  const seen = await post({ body, expectContinue: true });
  assert.equal(seen.continued, false, "the origin sent 100 Continue for a body it refuses");
  assert.equal(seen.sentBody, false);
  assert.deepEqual(seen.errors, []);
  assert.equal(seen.status, 413);
  assert.equal(JSON.parse(seen.body).error, "payload_too_large");
});

test("a body within the limit still works, with and without 100-continue", async () => {
  const body = Buffer.from(JSON.stringify({ sub: "alice" }));
  for (const expectContinue of [false, true]) {
    const seen = await post({ body, expectContinue });
    assert.deepEqual(seen.errors, []);
    assert.equal(seen.status, 201, seen.body);
    assert.equal(seen.continued, expectContinue);
    assert.ok(JSON.parse(seen.body).access_token);
  }
});
