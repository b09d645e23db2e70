// What a README Worker example must do in workerd, shared by the examples test and the tarball
// test: bundled by wrangler with the .wasm as a module of its own, then, with the issuer up, a
// good token → 200 (the example's body), an expired one → 401 "try refresh token", a forged one
// and none → 401 "unauthorised", all on one keyset fetch (one verifier per isolate); with the
// issuer down (another isolate) → 503. Examples that answer through jwtedge/fetch's guard
// (`guardAnswers`) must answer exactly as the worker in worker/ does: JSON `{"message"}`,
// `Cache-Control: no-store`, `WWW-Authenticate` on 401, `Retry-After` on 503.
import assert from "node:assert/strict";
import path from "node:path";
import { bundle, startBundle } from "./workerd.mjs";

export async function exerciseWorker(dir, issuer, { guarded, unguarded, okBody, guardAnswers }) {
  const { dist, files, output } = await bundle(dir);
  const wasm = files.find((f) => f.name.endsWith(".wasm"));
  assert.ok(wasm && wasm.bytes > 10_000, `the bundle has the .wasm module: ${JSON.stringify(files)}\n${output}`);

  const keysetFetches = { up: 0, down: 0 };
  const outbound = (which, up) => async (request) => {
    if (request.url.startsWith("https://auth.example.com/")) keysetFetches[which]++;
    return issuer.answer(request.url, { up });
  };
  const edge = await startBundle(dist, path.join(dir, "wrangler.toml"), { up: outbound("up", true), down: outbound("down", false) });
  try {
    const get = async (isolate, urlPath, token) => {
      const res = await edge.fetch(isolate, urlPath, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: safeJson(text) };
    };

    const ok = await get("up", guarded, await issuer.token("alice"));
    assert.equal(ok.status, 200, ok.text);
    okBody(ok.json);

    const expired = await get("up", guarded, await issuer.expiredToken());
    assert.equal(expired.status, 401, expired.text);
    assert.equal(expired.json?.message, "try refresh token");

    const forged = await get("up", guarded, await issuer.forgedToken());
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json?.message, "unauthorised");

    const none = await get("up", guarded, undefined);
    assert.equal(none.status, 401, none.text);
    assert.equal(none.json?.message, "unauthorised");

    if (unguarded) {
      const open = await get("up", unguarded.path, undefined);
      assert.equal(open.status, 200, open.text);
      assert.equal(open.text, unguarded.text);
    }
    // One verifier per isolate, its keyset cached: every request above made one keyset fetch.
    assert.equal(keysetFetches.up, 1, "one keyset fetch for all the requests of the isolate");

    const unavailable = await get("down", guarded, await issuer.token("alice"));
    assert.equal(unavailable.status, 503, unavailable.text);
    assert.equal(unavailable.json?.message, "keyset unavailable");

    if (guardAnswers) {
      for (const answer of [expired, forged, none, unavailable]) {
        assert.equal(answer.headers.get("content-type"), "application/json");
        assert.equal(answer.headers.get("cache-control"), "no-store");
        assert.deepEqual(Object.keys(answer.json), ["message"]);
      }
      assert.equal(expired.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
      assert.equal(forged.headers.get("www-authenticate"), "Bearer");
      assert.equal(unavailable.headers.get("retry-after"), "5");
    }
  } finally {
    await edge.dispose();
  }
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
