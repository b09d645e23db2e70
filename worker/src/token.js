// Where the access token comes from (SPEC §8): `Authorization: Bearer …`; the configured cookie
// only when the request has no Authorization header at all.

/** The token, or undefined when the request carries none we accept. */
export function extractToken(request, tokenCookie) {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    // The client chose how to authenticate: an Authorization of another scheme (Basic, …) or a
    // malformed Bearer is not our token, and a cookie beside it must not stand in for it (it may
    // be a stale or planted one the client did not mean to present).
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return m ? m[1] : undefined;
  }
  if (tokenCookie) return readCookie(request.headers.get("cookie"), tokenCookie);
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
