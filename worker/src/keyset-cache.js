// The colo-wide keyset cache (SPEC §5 "Across isolates"): a `fetch` for the Verifier that keeps
// the origin's keyset response in the Cache API, so a new isolate of the same colo verifies
// without calling the origin.
//
// - Only shareable responses are stored: 200, a positive `max-age` (less the `Age` it already
//   has), and neither `private`, `no-store` nor `no-cache`, no `Vary: *`, no `Set-Cookie`, a
//   declared length within the keyset limit.
// - Secret keys never land in the shared cache, whatever the headers say (a proxy may relabel an
//   HMAC keyset `public`): a fetch that carries `Authorization` bypasses the cache both ways, and
//   a keyset holding an `oct` key (or that is not JSON) is never stored.
// - Fresh copies only: the copy carries the time it was stored; it is served with
//   `Cache-Control: max-age=<what is left>`, and not at all once its max-age has passed.
// - An isolate that already holds the cached copy (its `If-None-Match` names the copy's ETag) is
//   sent to the origin: the cache cannot tell it anything new, and it may be looking for a kid
//   that was published after the copy was stored (a new or imported key). A 304 from the origin
//   renews the shared copy too.

const STORED_AT = "x-jwtedge-stored-at";
const MAX_AGE = "x-jwtedge-max-age";
const MAX_BODY_BYTES = 64 * 1024;

/** Directives of a Cache-Control header, lowercased: Map(name → value|true). */
export function parseCacheControl(value) {
  const out = new Map();
  if (!value) return out;
  for (const part of value.split(",")) {
    const [name, ...rest] = part.trim().split("=");
    if (!name) continue;
    out.set(name.toLowerCase(), rest.length ? rest.join("=").trim().replace(/^"|"$/g, "") : true);
  }
  return out;
}

/** Seconds a response may be shared, or 0 when it must not be stored in a shared cache. */
export function shareableSeconds(response) {
  const cc = parseCacheControl(response.headers.get("cache-control"));
  if (cc.has("private") || cc.has("no-store") || cc.has("no-cache")) return 0;
  if (response.headers.get("set-cookie") !== null) return 0;
  if ((response.headers.get("vary") ?? "").trim() === "*") return 0;
  const raw = cc.get("s-maxage") ?? cc.get("max-age");
  // Time already spent in caches on the way counts against max-age (RFC 9111 §4.2.3); an Age
  // that is not a number of seconds counts as fully aged, as in the verifier (SPEC §5).
  const ageHeader = response.headers.get("age");
  const age = ageHeader === null ? 0 : /^\s*\d+\s*$/.test(ageHeader) ? Number(ageHeader) : Infinity;
  const seconds = Math.floor(Number(raw)) - age;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/** Whether a keyset body holds secret key material; a body that is not a JSON keyset counts as one. */
export function holdsSecretKeys(body) {
  let keyset;
  try {
    keyset = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return true;
  }
  if (!keyset || !Array.isArray(keyset.keys)) return true;
  // `oct`, or any member that carries secret material (`k` symmetric, `d` a private key).
  return keyset.keys.some((k) => !k || typeof k !== "object" || k.kty === "oct" || "k" in k || "d" in k);
}

function etagMatches(ifNoneMatch, etag) {
  if (!ifNoneMatch || !etag) return false;
  const strip = (t) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((c) => c.trim() === "*" || strip(c) === strip(etag));
}

/**
 * A fetch function for the Verifier's `fetch` option.
 * @param {object} o
 * @param {() => Cache | Promise<Cache>} o.cache the Cache API cache (caches.default)
 * @param {typeof fetch} [o.fetcher] how to reach the origin
 * @param {() => number} [o.now] milliseconds
 * @param {object} [o.stats] counters: hits, misses, originFetches, stored, notStored, renewed
 * @param {(p: Promise<unknown>) => void} [o.keepAlive] given every fetch as it starts (the worker
 *   passes ctx.waitUntil of the request that started it)
 */
export function cachedKeysetFetch({
  cache,
  fetcher = (...a) => fetch(...a),
  now = () => Date.now(),
  stats = newStats(),
  keepAlive = () => {},
}) {
  const keysetFetch = function keysetFetch(url, init = {}) {
    // The body is read here, so the whole fetch is one promise; the request that started it is
    // kept alive until it settles and one more turn of the event loop has let the verifier take
    // the result in (and wake the requests waiting for it).
    const result = fetchThroughCache(url, init).then(buffered);
    keepAlive(result.then(nextTurn, nextTurn));
    return result;
  };
  const fetchThroughCache = async function (url, init) {
    const headers = new Headers(init.headers);
    if (headers.has("authorization")) {
      // A credentialed fetch is this isolate's own business: what it gets may be secret, and a
      // shared copy is not what it asked for.
      stats.originFetches++;
      const response = await fetcher(url, init);
      if (response.status === 200) stats.notStored++;
      return response;
    }
    const ifNoneMatch = headers.get("if-none-match");
    const key = new Request(String(url), { method: "GET" });
    let store;
    try {
      store = await cache();
    } catch {
      store = undefined; // no Cache API here: straight to the origin
    }

    let cached;
    if (store) {
      const hit = await store.match(key).catch(() => undefined);
      if (hit) {
        const left = remainingSeconds(hit, now());
        if (left > 0) cached = { response: hit, left };
        else await store.delete(key).catch(() => false);
      }
    }
    if (cached && !etagMatches(ifNoneMatch, cached.response.headers.get("etag"))) {
      stats.hits++;
      return servedCopy(cached.response, cached.left);
    }
    if (cached) stats.sameCopy++;
    else stats.misses++;

    stats.originFetches++;
    const response = await fetcher(url, init);
    if (!store) return response;

    if (response.status === 304 && cached) {
      const seconds = shareableSeconds(response) || shareableSeconds(cached.response);
      if (seconds > 0 && shareableSeconds(response) > 0) {
        const body = await cached.response.arrayBuffer();
        await putCopy(store, key, body, cached.response.headers, response.headers, seconds, now());
        stats.renewed++;
      }
      return response;
    }
    const seconds = response.status === 200 ? shareableSeconds(response) : 0;
    const length = response.headers.get("content-length");
    const declared = length === null ? NaN : Number(length);
    if (seconds === 0 || !(declared >= 0 && declared <= MAX_BODY_BYTES)) {
      if (response.status === 200) stats.notStored++;
      return response;
    }
    const body = await response.arrayBuffer();
    if (holdsSecretKeys(body)) {
      stats.notStored++;
    } else {
      await putCopy(store, key, body, response.headers, response.headers, seconds, now());
      stats.stored++;
    }
    return new Response(body, { status: 200, headers: response.headers });
  };
  keysetFetch.stats = stats;
  return keysetFetch;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** `response` with its body read into memory (up to the keyset limit). */
async function buffered(response) {
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
    return new Response(null, { status: response.status, headers: response.headers });
  }
  const length = response.headers.get("content-length");
  if (length !== null && Number(length) > MAX_BODY_BYTES) return response; // refused unread
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      const headers = new Headers(response.headers);
      headers.set("content-length", String(total)); // over the limit: the verifier refuses it
      return new Response(null, { status: response.status, headers });
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return new Response(body, { status: response.status, headers: response.headers });
}

export function newStats() {
  return { hits: 0, misses: 0, sameCopy: 0, originFetches: 0, stored: 0, notStored: 0, renewed: 0 };
}

function remainingSeconds(response, nowMs) {
  const storedAt = Number(response.headers.get(STORED_AT));
  const maxAge = Number(response.headers.get(MAX_AGE));
  if (!Number.isFinite(storedAt) || !Number.isFinite(maxAge)) return 0;
  return Math.floor(maxAge - Math.max(0, nowMs - storedAt) / 1000);
}

async function putCopy(store, key, body, bodyHeaders, freshHeaders, seconds, nowMs) {
  const headers = new Headers();
  for (const name of ["content-type", "etag"]) {
    const v = freshHeaders.get(name) ?? bodyHeaders.get(name);
    if (v !== null) headers.set(name, v);
  }
  headers.set("cache-control", `public, max-age=${seconds}`);
  headers.set(STORED_AT, String(nowMs));
  headers.set(MAX_AGE, String(seconds));
  await store.put(key, new Response(body, { status: 200, headers })).catch(() => {});
}

function servedCopy(response, left) {
  const headers = new Headers(response.headers);
  headers.delete(STORED_AT);
  headers.delete(MAX_AGE);
  headers.delete("cf-cache-status");
  headers.delete("age");
  headers.set("cache-control", `max-age=${left}`);
  return new Response(response.body, { status: 200, headers });
}
