// The key console (/admin) in headless Chromium against the real `jwtedge-origin` binary
// (issue 12: 2, 3): a wrong token is refused; sign-in sets an HttpOnly, SameSite=Strict cookie
// scoped to /admin with an expiry; the timeline and the table show the current and next keys
// (checked against `GET /keys`); rotating while the next key is not ready is refused with the
// reason; a forced rotation moves the rows; a revoke needs the kid typed; a POST without the
// CSRF token is 403; sign-out ends the session; the sessions and edges pages show the store's
// and the adoption figures; and the page loads nothing from outside the origin.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startOrigin, stopOrigin } from "./origin.mjs";
import { launch, signIn } from "./console-browser.mjs";

const ADMIN = "console-admin-token-4c1e9a77d2b8";
const API = "console-api-key-0f6d2b9e41a3";
let origin, browser, page;

before(async () => {
  origin = await startOrigin({
    JWTEDGE_ADMIN_TOKEN: ADMIN,
    JWTEDGE_API_KEY: API,
    // The next key needs 5 minutes of publication: "not ready" for the whole test.
    JWTEDGE_KEYSET_MAX_AGE: "300s",
    JWTEDGE_ROTATION_INTERVAL: "168h",
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stopOrigin(origin);
});

async function api(method, path, { auth = ADMIN, body, headers = {} } = {}) {
  const res = await fetch(origin.url + path, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

const keyTable = async () => (await api("GET", "/keys")).json;
const stateOf = (table, kid) => table.keys.find((k) => k.kid === kid)?.state;

/// What the page shows: timeline rows and table rows as {kid: state}.
async function shownKeys() {
  return page.evaluate(() => {
    const rows = (sel) =>
      Object.fromEntries([...document.querySelectorAll(sel)].map((e) => [e.dataset.kid, e.dataset.state]));
    return { timeline: rows("svg#timeline g.key-row"), table: rows("table#keys tbody tr") };
  });
}

const flash = async () => {
  const el = await page.$("#flash");
  return el ? { text: await el.textContent(), cls: await el.getAttribute("class") } : null;
};

test("a wrong admin token is refused, and says nothing more", async () => {
  page = await browser.context.newPage();
  const res = await page.goto(`${origin.url}/admin`);
  assert.equal(new URL(page.url()).pathname, "/admin/login", "signed out: the sign-in page");
  assert.match(res.headers()["content-security-policy"], /default-src 'self'/);
  await page.fill("#token", "console-wrong-token-000000000");
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/admin/login") && r.request().method() === "POST"),
    page.click("#sign-in button[type=submit]"),
  ]);
  assert.equal(answer.status(), 401);
  assert.equal((await flash()).text, "Sign-in refused.");
  assert.ok(!(await page.content()).includes("console-wrong-token"), "the token is not echoed");
  assert.deepEqual(await browser.context.cookies(), [], "no cookie for a wrong token");
  const keys = await page.goto(`${origin.url}/admin/keys`);
  assert.equal(new URL(page.url()).pathname, "/admin/login", "still signed out");
  assert.equal(keys.status(), 200);
});

test("sign-in sets an HttpOnly, SameSite=Strict cookie scoped to /admin, with an expiry", async () => {
  await page.close();
  page = await signIn(browser.context, origin.url, ADMIN);
  assert.equal(await page.textContent("h1"), "Keys");
  const cookies = await browser.context.cookies();
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  const [c] = cookies;
  assert.equal(c.name, "jwtedge_console");
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, "Strict");
  assert.equal(c.path, "/admin");
  assert.equal(c.secure, false, "plain http on loopback: not Secure (tests/origin_console.rs: Secure behind TLS)");
  const hours = (c.expires - Date.now() / 1000) / 3600;
  assert.ok(hours > 7.9 && hours <= 8.01, `expires in ${hours} h`);
  assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read it");
  // The API does not take the cookie: it is scoped to /admin and /keys wants the bearer token.
  assert.equal((await page.request.get(`${origin.url}/keys`)).status(), 401);
});

test("the timeline and the table show the current and the next key, as GET /keys does", async () => {
  const table = await keyTable();
  const shown = await shownKeys();
  assert.equal(shown.timeline[table.current], "current");
  assert.equal(shown.timeline[table.next], "next");
  assert.equal(shown.table[table.current], "current");
  assert.equal(shown.table[table.next], "next");
  assert.deepEqual(Object.keys(shown.table).sort(), table.keys.map((k) => k.kid).sort());
  assert.ok(await page.$("svg#timeline #now-line"), "a now line");
  assert.ok(await page.$("svg#timeline #next-rotation"), "the next scheduled rotation marked");
  // The next key's row: published now, signing from the next rotation (scheduled).
  const nextSpans = await page.$$eval(`svg#timeline g.key-row[data-kid="${table.next}"] rect.span`, (rs) =>
    rs.map((r) => [r.dataset.phase, r.textContent]),
  );
  assert.deepEqual(nextSpans.map(([p]) => p), ["published", "signing"]);
  assert.match(nextSpans[1][1], /\(scheduled\)/);
  // Human times, exact UTC on hover.
  const created = await page.$eval(`table#keys tr[data-kid="${table.current}"] time`, (t) => [t.textContent, t.title]);
  assert.match(created[0], /ago|now/);
  assert.match(created[1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  assert.match(await page.textContent("#next-rotation-at"), /^in (6 d 23 h|7 d)$/);
});

test("rotate while the next key is not ready: disabled with the reason, and refused by the server", async () => {
  const before = await keyTable();
  assert.equal(await page.isDisabled("#rotate-now"), true);
  const reason = await page.textContent("#not-ready-reason");
  assert.match(reason, /published for less than one keyset max-age \(300s\)/);
  assert.match(await page.textContent("#readiness"), /Ready in \d+ min/);
  // Submitting the form anyway (as a stale page would): the server refuses and says why.
  await Promise.all([page.waitForURL(/flash=not_ready/), page.$eval("#rotate-form", (f) => f.submit())]);
  const f = await flash();
  assert.match(f.cls, /refused/);
  assert.match(f.text, /^Rotation refused: the next key is not ready\. the next key has been published for less than one keyset max-age/);
  const afterwards = await keyTable();
  assert.equal(afterwards.current, before.current, "not rotated");
  // Forcing without ticking the confirmation is refused too (the box is `required` in the page).
  const csrf = await page.$eval("#force-form input[name=csrf]", (i) => i.value);
  const r = await page.request.post(`${origin.url}/admin/keys/rotate`, {
    form: { csrf, force: "true" },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 303);
  assert.match(r.headers().location, /flash=confirm_force/);
  assert.equal((await keyTable()).current, before.current);
});

test("a forced rotation, confirmed, moves the rows", async () => {
  const before = await keyTable();
  await page.click("#force summary");
  await page.check("#force-confirm");
  await Promise.all([page.waitForURL(/flash=forced/), page.click("#rotate-force")]);
  const after = await keyTable();
  assert.equal(after.current, before.next, "the next key signs");
  assert.notEqual(after.next, before.next);
  const f = await flash();
  assert.match(f.cls, /ok/);
  assert.equal(f.text, `Rotated (forced): ${after.current} signs from now on; ${after.next} is the new next key.`);
  const shown = await shownKeys();
  for (const view of [shown.timeline, shown.table]) {
    assert.equal(view[before.current], "previous");
    assert.equal(view[before.next], "current");
    assert.equal(view[after.next], "next");
  }
  assert.equal(stateOf(after, before.current), "previous");
});

test("revoke: only with the kid typed; the key leaves the keyset", async () => {
  const before = await keyTable();
  const victim = before.keys.find((k) => k.state === "previous").kid;
  await page.selectOption("#revoke-kid", victim);
  await page.fill("#revoke-confirm", victim.slice(0, -1));
  assert.equal(await page.isDisabled("#revoke-submit"), true, "the script waits for the whole kid");
  // A mismatch submitted anyway is refused by the server.
  await Promise.all([page.waitForURL(/flash=kid_mismatch/), page.$eval("#revoke-form", (f) => f.submit())]);
  assert.equal(stateOf(await keyTable(), victim), "previous");
  assert.match((await flash()).text, /^Not revoked: the kid typed does not match/);

  await page.selectOption("#revoke-kid", victim);
  await page.fill("#revoke-confirm", victim);
  assert.equal(await page.isDisabled("#revoke-submit"), false);
  await Promise.all([page.waitForURL(/flash=revoked/), page.click("#revoke-submit")]);
  const f = await flash();
  assert.match(f.text, new RegExp(`^Revoked ${victim}\\. Tokens it signed get \`try refresh token\` at the edges within one keyset max-age \\(300 s\\)`));
  assert.equal(stateOf(await keyTable(), victim), "revoked");
  const shown = await shownKeys();
  assert.equal(shown.timeline[victim], "revoked");
  assert.equal(shown.table[victim], "revoked");
  assert.ok(await page.$(`svg#timeline g.key-row[data-kid="${victim}"] rect.revoked-mark`));
  const jwks = await (await fetch(`${origin.url}/.well-known/jwks.json`)).json();
  assert.ok(!jwks.keys.some((k) => k.kid === victim), "not published any more");
});

test("a POST without the CSRF token (or with a wrong one) is 403 and changes nothing", async () => {
  const before = await keyTable();
  const csrf = await page.$eval("#rotate-form input[name=csrf]", (i) => i.value);
  for (const form of [
    { force: "true", confirm: "yes" },
    { csrf: csrf.replace(/.$/, (c) => (c === "A" ? "B" : "A")), force: "true", confirm: "yes" },
  ]) {
    const r = await page.request.post(`${origin.url}/admin/keys/rotate`, { form, maxRedirects: 0 });
    assert.equal(r.status(), 403, JSON.stringify(form));
    assert.match(await r.text(), /CSRF token/);
  }
  const revoke = await page.request.post(`${origin.url}/admin/keys/revoke`, {
    form: { kid: before.next, confirm_kid: before.next },
    maxRedirects: 0,
  });
  assert.equal(revoke.status(), 403);
  const signOut = await page.request.post(`${origin.url}/admin/logout`, { form: {}, maxRedirects: 0 });
  assert.equal(signOut.status(), 403);
  const afterwards = await keyTable();
  assert.deepEqual(afterwards.keys.map((k) => [k.kid, k.state]), before.keys.map((k) => [k.kid, k.state]));
  // The same forms with the token work (the token is right; only its absence was refused).
  const ok = await page.request.post(`${origin.url}/admin/keys/rotate`, {
    form: { csrf, force: "true", confirm: "yes", expect_current: "someone-else" },
    maxRedirects: 0,
  });
  assert.equal(ok.status(), 303);
  assert.match(ok.headers().location, /flash=current_changed/);
});

test("the sessions page counts live sessions, refreshes and thefts from the store", async () => {
  const s1 = (await api("POST", "/sessions", { auth: API, body: { sub: "alice" } })).json;
  const r1 = (await api("POST", "/sessions/refresh", { auth: null, body: { refresh_token: s1.refresh_token } })).json;
  await api("POST", "/sessions/refresh", { auth: null, body: { refresh_token: r1.refresh_token } });
  // The first token again, after its successor was used: theft; the session is revoked.
  const theft = await api("POST", "/sessions/refresh", { auth: null, body: { refresh_token: s1.refresh_token } });
  assert.equal(theft.json.error, "token_theft_detected");
  await api("POST", "/sessions", { auth: API, body: { sub: "bob" } });
  await page.goto(`${origin.url}/admin/sessions`);
  const figures = await page.$$eval("#session-stats dd", (dds) => Object.fromEntries(dds.map((d) => [d.id, d.textContent])));
  assert.deepEqual(figures, { live: "1", created: "2", refreshes: "2", thefts: "1" });
});

test("the edges page shows adoption counts, the chart and the next key's countdown", async () => {
  const first = await fetch(`${origin.url}/.well-known/jwks.json`);
  await first.arrayBuffer();
  const etag = first.headers.get("etag");
  const again = await fetch(`${origin.url}/.well-known/jwks.json`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  await page.goto(`${origin.url}/admin/edges`);
  const counts = await page.$$eval("#adoption-counts dd", (dds) => Object.fromEntries(dds.map((d) => [d.id, Number(d.textContent)])));
  assert.ok(counts["count-none"] >= 1 && counts["count-current"] >= 1, JSON.stringify(counts));
  const total = await page.$$eval("#adoption-chart g.minute", (gs) => gs.reduce((n, g) => n + Number(g.dataset.total), 0));
  assert.ok(total >= 2, `the chart holds the requests (${total})`);
  assert.match(await page.textContent("#readiness"), /is not ready/);
  await page.waitForFunction(() => /\(\d+ min \d+ s\)|\(\d+ s\)/.test(document.querySelector(".countdown")?.textContent ?? ""));
});

test("sign-out ends the session", async () => {
  await page.goto(`${origin.url}/admin/keys`);
  await Promise.all([page.waitForURL(/\/admin\/login\?flash=signed_out/), page.click("#sign-out")]);
  assert.equal((await flash()).text, "Signed out.");
  assert.deepEqual(await browser.context.cookies(), []);
  await page.goto(`${origin.url}/admin/keys`);
  assert.equal(new URL(page.url()).pathname, "/admin/login");
});

test("nothing the pages loaded came from outside the origin, and no CSP violation", async () => {
  assert.ok(browser.requests.length > 10, `${browser.requests.length} requests recorded`);
  const outside = browser.requests.filter((u) => new URL(u).origin !== origin.url);
  assert.deepEqual(outside, []);
  for (const asset of ["/admin/assets/console.css", "/admin/assets/console.js", "/admin/assets/favicon.svg"]) {
    assert.ok(browser.requests.includes(origin.url + asset), `${asset} loaded`);
  }
  assert.deepEqual(browser.failed, [`401 ${origin.url}/admin/login`], "only the wrong sign-in failed");
  assert.deepEqual(browser.problems, [], "no page error and no CSP violation");
});
