// Where the access token comes from: `Authorization: Bearer …`, else the configured cookie.

/** The token, or undefined when the request carries none. */
export function extractToken(request, tokenCookie) {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    // An Authorization header of another scheme (Basic, …) is not our token; fall back to the cookie.
    if (m) return m[1];
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
