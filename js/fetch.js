// jwtedge/fetch: a framework-free guard for the Fetch API (Workers, Deno, Bun, Node, service
// workers). It owns the two things every user of the verifier otherwise writes by hand (SPEC §8):
//   - where the access token comes from: `Authorization: Bearer …`, or a configured cookie only
//     when the request has no Authorization header at all;
//   - the HTTP answer for an outcome that is not OK:
//       TRY_REFRESH_TOKEN  → 401 {"message":"try refresh token"}, WWW-Authenticate: Bearer error="invalid_token"
//       UNAUTHORISED       → 401 {"message":"unauthorised"},      WWW-Authenticate: Bearer
//       KEYSET_UNAVAILABLE → 503 {"message":"keyset unavailable"}, Retry-After: 5
//     all JSON and `Cache-Control: no-store`.
// This is the one implementation: the worker in worker/ and the Hono middleware (jwtedge/hono)
// both answer through it, so they cannot drift. It imports nothing: the verifier is handed in.

const OPTIONS = new Set(["tokenCookie", "onOutcome"]);
// RFC 6265 cookie-name = token (RFC 7230 tchar).
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A client told to retry should not come back at once, nor wait long: the verifier retries the
// origin no more than once per cooldown, and a few seconds covers a brief outage.
const RETRY_AFTER_SECONDS = "5";

/**
 * Verifies the request's token with `verifier`. Resolves to the verified claims, or to the
 * `Response` to send instead (a fresh one each call). Bad options reject with a TypeError naming
 * the option; a bad token never rejects.
 */
export async function guard(request, verifier, options = {}) {
  const { tokenCookie, onOutcome } = checkedOptions(options);
  if (verifier === null || typeof verifier !== "object" || typeof verifier.verify !== "function") {
    throw new TypeError("jwtedge/fetch: guard(request, verifier): verifier must be a Verifier");
  }
  const token = extractToken(request, tokenCookie);
  // No token we accept: nothing to ask the verifier (and no outcome to report).
  if (token === undefined) return rejection("UNAUTHORISED");
  const outcome = await verifier.verify(token);
  if (onOutcome) onOutcome(outcome);
  if (outcome?.status === "OK") return outcome.claims;
  return rejection(outcome?.status);
}

function checkedOptions(options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError("jwtedge/fetch: guard options must be an object");
  }
  for (const name of Object.keys(options)) {
    if (!OPTIONS.has(name)) throw new TypeError(`jwtedge/fetch: unknown guard option ${JSON.stringify(name)}`);
  }
  const { tokenCookie, onOutcome } = options;
  if (tokenCookie !== undefined && (typeof tokenCookie !== "string" || !COOKIE_NAME.test(tokenCookie))) {
    throw new TypeError("jwtedge/fetch: guard option tokenCookie must be a cookie name");
  }
  if (onOutcome !== undefined && typeof onOutcome !== "function") {
    throw new TypeError("jwtedge/fetch: guard option onOutcome must be a function");
  }
  return { tokenCookie, onOutcome };
}

/**
 * The request's access token, or undefined when it carries none we accept: `Authorization:
 * Bearer <token>`; the cookie `tokenCookie` (when given) only if there is no Authorization header.
 */
export function extractToken(request, tokenCookie) {
  const headers = request?.headers;
  if (!headers || typeof headers.get !== "function") {
    throw new TypeError("jwtedge/fetch: guard(request, …): request must be a Request");
  }
  const authorization = headers.get("authorization");
  if (authorization !== null) {
    // The client chose how to authenticate: an Authorization of another scheme (Basic, …) or a
    // malformed Bearer is not our token, and a cookie beside it must not stand in for it (it may
    // be a stale or planted one the client did not mean to present).
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return m ? m[1] : undefined;
  }
  if (tokenCookie) return readCookie(headers.get("cookie"), tokenCookie);
  return undefined;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header, name) {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value === "" ? undefined : value;
  }
  return undefined;
}

/**
 * The answer for an outcome status that is not OK. Anything else (a status this version does
 * not know) is answered as UNAUTHORISED: a guard fails closed.
 */
export function rejection(status) {
  switch (status) {
    case "TRY_REFRESH_TOKEN":
      return json(401, "try refresh token", { "www-authenticate": 'Bearer error="invalid_token"' });
    case "KEYSET_UNAVAILABLE":
      return json(503, "keyset unavailable", { "retry-after": RETRY_AFTER_SECONDS });
    default:
      return json(401, "unauthorised", { "www-authenticate": "Bearer" });
  }
}

// Never cached by anyone: the same request may pass a moment later (refreshed token, origin back).
function json(status, message, extra) {
  return new Response(JSON.stringify({ message }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}
