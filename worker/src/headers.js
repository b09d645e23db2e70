// Identity headers for the upstream (SPEC §8). Clients cannot forge them: every incoming header
// whose name, lower-cased and with `_` read as `-`, starts with `x-jwtedge-` is removed, on
// guarded and unguarded paths alike, before the verified ones are set (CGI/WSGI servers map
// `x_jwtedge_sub` and `x-jwtedge-sub` to the same HTTP_X_JWTEDGE_SUB). And no two identities
// reach the upstream as one: a value a header would alter is refused, not forwarded.

export const IDENTITY_PREFIX = "x-jwtedge-";

/** Whether header `name` is, to some upstream, an x-jwtedge-* header. */
export function isIdentityHeader(name) {
  return name.toLowerCase().replaceAll("_", "-").startsWith(IDENTITY_PREFIX);
}

/** A copy of `headers` without any identity header (isIdentityHeader). */
export function stripIdentity(headers) {
  const out = new Headers(headers);
  for (const name of [...out.keys()]) {
    if (isIdentityHeader(name)) out.delete(name);
  }
  return out;
}

/** Stable codes for an identity value that cannot be forwarded as it is. */
export const IdentityError = Object.freeze({
  NOT_A_STRING: "not_a_string",
  EMPTY: "empty",
  TOO_LONG: "too_long",
  SURROUNDING_WHITESPACE: "surrounding_whitespace",
  CONTROL_CHARACTER: "control_character",
  NOT_A_HEADER_VALUE: "not_a_header_value",
});

const MAX_CHARS = 256; // SPEC §7 "Subjects": sub is 1–256 characters; sid and kid get the same bound
// Headers trims HTTP whitespace (SP, HTAB, CR, LF) at both ends; any Unicode space at the edges
// is refused as well, since an upstream that trims with String.prototype.trim would merge those.
const EDGE_WHITESPACE = /^\s|\s$/u;
// C0 controls, DEL and C1 controls: Headers rejects some (NUL, CR, LF) and upstreams drop others.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** Why `value` (claim `name`) cannot be an identity header value, or undefined when it can. */
export function identityProblem(value) {
  if (typeof value !== "string") return IdentityError.NOT_A_STRING;
  if (value.length === 0) return IdentityError.EMPTY;
  if ([...value].length > MAX_CHARS) return IdentityError.TOO_LONG;
  if (EDGE_WHITESPACE.test(value)) return IdentityError.SURROUNDING_WHITESPACE;
  if (CONTROL.test(value)) return IdentityError.CONTROL_CHARACTER;
  if (!value.isWellFormed()) return IdentityError.NOT_A_HEADER_VALUE; // a lone surrogate
  return undefined;
}

/**
 * The identity headers for a verified outcome (`{claims, kid}`): `{ ok: true, identity }` with
 * sub, sid and kid as they will reach the upstream (absent claims left out), or
 * `{ ok: false, claim, code }` when one would be altered on the way.
 */
export function identityOf(outcome) {
  const identity = { sub: outcome.claims?.sub, sid: outcome.claims?.sid, kid: outcome.kid };
  const out = {};
  for (const [claim, value] of Object.entries(identity)) {
    if (value === undefined) continue;
    const code = identityProblem(value);
    if (code) return { ok: false, claim, code };
    out[claim] = value;
  }
  return { ok: true, identity: out };
}

/** Sets x-jwtedge-sub, -sid and -kid from identityOf(…).identity. */
export function setIdentity(headers, identity) {
  for (const [claim, value] of Object.entries(identity)) headers.set(`${IDENTITY_PREFIX}${claim}`, value);
  return headers;
}
