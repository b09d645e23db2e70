// Identity headers for the upstream. Clients cannot forge them: every incoming `x-jwtedge-*`
// header is removed, on guarded and unguarded paths alike, before the verified ones are set.

export const IDENTITY_PREFIX = "x-jwtedge-";

/** A copy of `headers` without any `x-jwtedge-*` header. */
export function stripIdentity(headers) {
  const out = new Headers(headers);
  for (const name of [...out.keys()]) {
    if (name.toLowerCase().startsWith(IDENTITY_PREFIX)) out.delete(name);
  }
  return out;
}

/** Sets x-jwtedge-sub, -sid and -kid from a verified outcome (`{claims, kid}`). */
export function setIdentity(headers, outcome) {
  const { claims, kid } = outcome;
  if (typeof claims.sub === "string") headers.set("x-jwtedge-sub", claims.sub);
  if (typeof claims.sid === "string") headers.set("x-jwtedge-sid", claims.sid);
  if (typeof kid === "string") headers.set("x-jwtedge-kid", kid);
  return headers;
}
