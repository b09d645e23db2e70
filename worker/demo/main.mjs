// The main job's driver (scripts/run.sh starts the origin and calls this): runs the worker in
// local workerd (`wrangler dev` with --var overrides) in front of a small upstream app, then walks
// through a session: a verified request, a rotation, a refresh — printing each step. Exits
// non-zero if any step does not go as it should.
//   node worker/demo/main.mjs <origin base URL> <credentials.toml>
import { readFileSync } from "node:fs";
import { startUpstream } from "../test/helpers/upstream.js";
import { freePort, startWranglerDev } from "../test/helpers/wrangler.js";
import { waitFor } from "../test/helpers/wait.js";

const [originUrl, credentialsFile, stateDir] = process.argv.slice(2);
if (!originUrl || !credentialsFile || !stateDir) {
  console.error("usage: node worker/demo/main.mjs <origin URL> <credentials.toml> <fresh wrangler state dir>");
  process.exit(2);
}
const creds = readFileSync(credentialsFile, "utf8");
const secret = (name) => {
  const m = new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(creds);
  if (!m) throw new Error(`${name} not found in ${credentialsFile}`);
  return m[1];
};
const apiKey = secret("api_key");
const adminToken = secret("admin_token");

let step = 0;
const say = (title) => console.log(`\n[${++step}] ${title}`);
const show = (label, value) => console.log(`    ${label.padEnd(22)} ${typeof value === "string" ? value : JSON.stringify(value)}`);
const kidOf = (token) => JSON.parse(Buffer.from(token.split(".")[0], "base64url")).kid;
function expect(ok, what) {
  if (!ok) throw new Error(`unexpected: ${what}`);
}
async function originCall(method, path, { token, body } = {}) {
  const res = await fetch(originUrl + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const upstream = await startUpstream(async (req, res, seen) => {
  const sub = seen.headers["x-jwtedge-sub"];
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ hello: sub ?? "anonymous", path: seen.path }));
  return true;
});
const port = await freePort();
const edgeUrl = `http://127.0.0.1:${port}`;
const dev = startWranglerDev([
  "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false",
  // A fresh local colo: an empty Cache API, like a colo that has not seen this origin yet.
  "--persist-to", stateDir,
  "--var", `KEYSET_URL:${originUrl}/.well-known/jwks.json`,
  "--var", `UPSTREAM_URL:${upstream.url}`,
  "--var", "GUARDED_PATHS:/api",
  "--var", `ISSUER:${originUrl}`,
  "--var", "AUDIENCE:api",
  "--var", "EXPOSE_STATS:true",
]);

async function edge(path, token, extra = {}) {
  const res = await fetch(edgeUrl + path, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, text };
}
const seenIdentity = () => {
  const h = upstream.requests.at(-1).headers;
  return { sub: h["x-jwtedge-sub"], sid: h["x-jwtedge-sid"], kid: h["x-jwtedge-kid"] };
};

let failed = false;
try {
  say(`the worker in local workerd (wrangler dev) on ${edgeUrl}, guarding /api of the upstream ${upstream.url}`);
  await waitFor(
    () => fetch(`${edgeUrl}/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false),
    { timeoutMs: 60_000, intervalMs: 250, what: "wrangler dev to answer" },
  ).catch((e) => {
    throw new Error(`${e.message}\n${dev.output}`);
  });
  show("status", "ready");

  say("the origin's keyset (what the edge will fetch and cache; this look is counted in the metrics below)");
  const jwks = await originCall("GET", "/.well-known/jwks.json");
  show("published kids", jwks.keys.map((k) => `${k.kid} (${k.alg})`).join(", "));

  say("mint a session at the origin: POST /sessions {sub: alice}");
  let session = await originCall("POST", "/sessions", { token: apiKey, body: { sub: "alice", claims: { plan: "demo" } } });
  show("session_id", session.session_id);
  show("access token kid", kidOf(session.access_token));
  show("expires at", new Date(session.access_token_expires_at * 1000).toISOString());

  say("GET /api/hello without a token");
  let r = await edge("/api/hello");
  show("edge answered", `${r.status} ${r.text}`);
  expect(r.status === 401, "401 without a token");

  say("GET /api/hello with the access token (and a forged x-jwtedge-sub: mallory header)");
  r = await edge("/api/hello", session.access_token, { "x-jwtedge-sub": "mallory" });
  show("edge answered", `${r.status} ${r.text}`);
  show("upstream saw", seenIdentity());
  expect(r.status === 200 && seenIdentity().sub === "alice", "200, and the upstream sees alice");

  say("is the next key ready to sign? GET /keys/adoption (which keyset versions the edges hold)");
  const adoption = await originCall("GET", "/keys/adoption", { token: adminToken });
  show("keyset requests", adoption.counts);
  show("next key ready", adoption.readiness);
  say("rotate the signing key: POST /keys/rotate (what the schedule does every rotation_interval)");
  let rotated;
  if (adoption.readiness?.ready) {
    rotated = await originCall("POST", "/keys/rotate", { token: adminToken });
  } else {
    // A manual rotation waits until every edge can hold the next key (one keyset max-age after it
    // was published, and no edge still on a keyset without it): the origin answers 409.
    const refused = await fetch(`${originUrl}/keys/rotate`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await refused.json();
    show("without force", `${refused.status} ${body.error}: ${body.message}`);
    expect(refused.status === 409 && body.error === "next_key_not_ready", "409 next_key_not_ready");
    show("so, for the demo", "POST /keys/rotate?force=true (the edge fetched the keyset with the next key in it)");
    rotated = await originCall("POST", "/keys/rotate?force=true", { token: adminToken });
  }
  show("previous / current / next", `${rotated.previous} / ${rotated.current} / ${rotated.next}`);

  say("the old access token still passes (its key stays published until its tokens expire)");
  r = await edge("/api/hello", session.access_token);
  show("edge answered", `${r.status} ${r.text}`);
  show("upstream saw", seenIdentity());
  expect(r.status === 200 && seenIdentity().kid === rotated.previous, "200 with the previous key");

  say("refresh the session: POST /sessions/refresh (a new pair; the old refresh token dies)");
  const oldRefresh = session.refresh_token;
  session = { ...session, ...(await originCall("POST", "/sessions/refresh", { body: { refresh_token: oldRefresh } })) };
  show("new access token kid", kidOf(session.access_token));
  expect(kidOf(session.access_token) === rotated.current, "signed by the new current key");

  say("GET /api/hello with the refreshed token: the edge already knows the new key (it was published as next)");
  r = await edge("/api/hello", session.access_token);
  show("edge answered", `${r.status} ${r.text}`);
  show("upstream saw", seenIdentity());
  expect(r.status === 200 && seenIdentity().kid === rotated.current, "200 with the new key");

  say("what it cost the origin");
  const stats = JSON.parse((await edge("/__jwtedge/stats")).text);
  show("edge verifier", stats.verifier);
  show("edge colo cache", stats.keysetCache);
  const metrics = await (await fetch(`${originUrl}/metrics`)).text();
  for (const line of metrics.split("\n").filter((l) => /^jwtedge_(keyset_served_total|refreshes_total\{result="ok"|keys\{)/.test(l))) {
    show("origin metric", line);
  }
  console.log("\ndone: a verified request, a rotation and a refresh, with no request refused along the way.");
} catch (e) {
  failed = true;
  console.error(`\nrun failed: ${e.message}`);
} finally {
  await dev.stop();
  await upstream.close();
}
process.exit(failed ? 1 : 0);
