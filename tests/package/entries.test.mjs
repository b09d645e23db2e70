// The package's entries beyond the README's examples (issue 10, point 2):
//   - under wrangler, `import init, { Verifier } from "jwtedge"` resolves to the Workers entry (the
//     `workerd` export condition): a Worker written for the web entry runs, its init() a no-op;
//   - jwtedge/hono in Node (the `node` condition of the main entry it imports): options as a
//     function of the bindings, called once; the guard's options (tokenCookie) split from the
//     Verifier's; the Verifier's `fetch` option passed through; a bad option is the Verifier's
//     TypeError, on the first request.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { jwtedge } from "jwtedge/hono";
import { KEYSET_URL, makeIssuer } from "./issuer.mjs";
import { exerciseWorker } from "./worker-checks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
let issuer, work;

before(async () => {
  issuer = await makeIssuer();
  mkdirSync(path.join(here, ".work"), { recursive: true });
  work = mkdtempSync(path.join(here, ".work", "entries-"));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('under wrangler, "jwtedge" is the Workers entry: init() and initSync() return at once', async () => {
  const dir = path.join(work, "main-entry");
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "wrangler.toml"), 'name = "main-entry"\nmain = "src/index.js"\ncompatibility_date = "2026-04-20"\n');
  writeFileSync(
    path.join(dir, "src", "index.js"),
    `import init, { init as named, initSync, Verifier } from "jwtedge";
const verifier = new Verifier({ keysetUrl: "${KEYSET_URL}" });
export default {
  async fetch(request) {
    await init();
    await named();
    initSync({ module: new Uint8Array(0) }); // would throw if it compiled these bytes
    const token = request.headers.get("authorization")?.slice(7) ?? "";
    const outcome = await verifier.verify(token);
    if (outcome.status === "OK") return Response.json({ sub: outcome.claims.sub });
    const status = outcome.status === "KEYSET_UNAVAILABLE" ? 503 : 401;
    return Response.json({ message: outcome.status === "TRY_REFRESH_TOKEN" ? "try refresh token" : status === 503 ? "keyset unavailable" : "unauthorised" }, { status });
  },
};
`,
  );
  await exerciseWorker(dir, issuer, {
    guarded: "/",
    okBody: (body) => assert.deepEqual(body, { sub: "alice" }),
    guardAnswers: false,
  });
});

test("jwtedge/hono in Node: options from the bindings once, tokenCookie, the fetch option", async () => {
  let optionCalls = 0;
  let keysetFetches = 0;
  const app = new Hono();
  app.use(
    "/api/*",
    jwtedge((env) => {
      optionCalls++;
      return {
        keysetUrl: env.KEYSET_URL,
        audience: "api",
        tokenCookie: "at",
        fetch: async (url) => {
          keysetFetches++;
          return issuer.answer(url);
        },
      };
    }),
  );
  app.get("/api/me", (c) => c.json({ sub: c.get("jwtedge").sub, sid: c.get("jwtedge").sid }));
  const env = { KEYSET_URL };

  const byHeader = await app.request("/api/me", { headers: { authorization: `Bearer ${await issuer.token("bob")}` } }, env);
  assert.equal(byHeader.status, 200);
  assert.deepEqual(await byHeader.json(), { sub: "bob", sid: "s-1" });
  const byCookie = await app.request("/api/me", { headers: { cookie: `at=${await issuer.token("carol")}` } }, env);
  assert.equal(byCookie.status, 200);
  assert.deepEqual(await byCookie.json(), { sub: "carol", sid: "s-1" });
  const expired = await app.request("/api/me", { headers: { cookie: `at=${await issuer.expiredToken()}` } }, env);
  assert.equal(expired.status, 401);
  assert.deepEqual(await expired.json(), { message: "try refresh token" });
  assert.equal(optionCalls, 1, "the options function runs once");
  assert.equal(keysetFetches, 1, "one verifier, one keyset fetch");
});

test("jwtedge/hono: a bad option is the Verifier's TypeError naming it; bad arguments throw at once", async () => {
  const app = new Hono();
  let error;
  app.onError((e, c) => {
    error = e;
    return c.text("error", 500);
  });
  app.use("*", jwtedge({ keysetUrl: KEYSET_URL, retries: 3 }));
  app.get("/", (c) => c.text("never"));
  const res = await app.request("/", { headers: { authorization: `Bearer ${await issuer.token()}` } });
  assert.equal(res.status, 500);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /retries/);
  assert.throws(() => jwtedge(null), TypeError);
  assert.throws(() => jwtedge("https://auth.example.com"), TypeError);
});
