// Oversized bodies against the real `jwtedge-origin` (issue 8, finding 10), with Node's plain
// `http` client: a declared Content-Length over the limit is answered 413 before any body is
// read, so a client that asked for `100-continue` never gets `continue` and never sends the
// body; and a client that sends 4 MiB anyway reads the 413 (the origin closes lingeringly)
// instead of EPIPE/ECONNRESET. The binary comes from JWTEDGE_ORIGIN_BIN, else the newest of
// {$CARGO_TARGET_DIR,target}/{debug,release}/jwtedge-origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startOrigin, stopOrigin } from "./origin.mjs";

const API = "body-limit-api-key-3c9e51a0";

let origin;
let port;

before(async () => {
  origin = await startOrigin({ JWTEDGE_API_KEY: API });
  port = origin.port;
});

after(() => stopOrigin(origin));

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
