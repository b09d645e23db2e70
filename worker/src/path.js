// Which path is judged and forwarded (SPEC §8 "Which path is guarded"). The guard must judge the
// path the upstream will act on, not its spelling, and the upstream must get exactly the path
// that was judged. This module owns the one canonical form both use:
//
// - Every percent-encoded byte is decoded (`/%61pi` is `/api`), then re-encoded only where a path
//   needs it (space, `"<>\`{}`, non-ASCII), with upper-case hex: one spelling per path, so an
//   upstream that decodes and one that does not read the same thing.
// - Dot-segments are resolved (RFC 3986 §5.2.4, `..` stops at the root) and repeated slashes
//   merged (`//api/x` is `/api/x`).
// - A path whose meaning depends on the upstream is refused (the caller answers 400): an encoded
//   delimiter (`%2F` `/`, `%5C` `\`, `%3B` `;`, `%3F` `?`, `%23` `#`) or encoded `%` (`%25`, which
//   a second decoding would turn into something else), invalid percent-encoding, encoded control
//   characters (`%00` truncates paths in C upstreams), bytes that are not UTF-8 (overlong forms
//   such as `%C0%AF` decode to `/` in lenient decoders), and a raw `;` (path parameters to
//   servlet containers: `/api;/x` is `/api/x` there) or raw `\` (a separator on Windows upstreams).
//
// Input is a WHATWG-serialised pathname (`new URL(request.url).pathname`): ASCII only, already
// percent-encoded where the URL parser encodes.

/** Stable codes for a refused path. */
export const PathError = Object.freeze({
  NOT_ABSOLUTE: "not_absolute",
  INVALID_PERCENT_ENCODING: "invalid_percent_encoding",
  ENCODED_DELIMITER: "encoded_delimiter",
  ENCODED_PERCENT: "encoded_percent",
  ENCODED_CONTROL: "encoded_control",
  INVALID_UTF8: "invalid_utf8",
  SEMICOLON: "semicolon",
  BACKSLASH: "backslash",
  INVALID_CHARACTER: "invalid_character",
});

const SLASH = 0x2f;
// Bytes whose encoded form means something else than the raw byte to some upstream.
const ENCODED_DELIMITERS = new Set([0x2f, 0x5c, 0x3b, 0x3f, 0x23]);
const PERCENT = 0x25;
// Raw in the canonical form is every printable ASCII byte except these (they stay encoded).
const KEEP_ENCODED = new Set([0x20, 0x22, 0x25, 0x3c, 0x3e, 0x60, 0x7b, 0x7d, 0x3f, 0x23]);
const HEX = "0123456789ABCDEF";
const utf8 = new TextDecoder("utf-8", { fatal: true });

const isHex = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexValue = (c) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);
const isControl = (b) => b < 0x20 || b === 0x7f;

/**
 * The canonical form of `pathname`: `{ ok: true, path }`, or `{ ok: false, code }` with a
 * PathError code when the path is refused.
 */
export function canonicalPath(pathname) {
  if (typeof pathname !== "string" || pathname.charCodeAt(0) !== SLASH) return refused(PathError.NOT_ABSOLUTE);
  const bytes = [];
  for (let i = 0; i < pathname.length; i++) {
    const c = pathname.charCodeAt(i);
    if (c === PERCENT) {
      const h = pathname.charCodeAt(i + 1);
      const l = pathname.charCodeAt(i + 2);
      if (!isHex(h) || !isHex(l)) return refused(PathError.INVALID_PERCENT_ENCODING);
      const b = hexValue(h) * 16 + hexValue(l);
      if (ENCODED_DELIMITERS.has(b)) return refused(PathError.ENCODED_DELIMITER);
      if (b === PERCENT) return refused(PathError.ENCODED_PERCENT);
      if (isControl(b)) return refused(PathError.ENCODED_CONTROL);
      bytes.push(b);
      i += 2;
    } else if (c === 0x3b) {
      return refused(PathError.SEMICOLON);
    } else if (c === 0x5c) {
      return refused(PathError.BACKSLASH);
    } else if (c <= 0x20 || c >= 0x7f) {
      // The URL parser encodes these; one that did not is not a path we can judge.
      return refused(PathError.INVALID_CHARACTER);
    } else {
      bytes.push(c);
    }
  }
  try {
    utf8.decode(new Uint8Array(bytes));
  } catch {
    return refused(PathError.INVALID_UTF8);
  }

  // Segments, as byte strings (one char per byte). Every `/` here was a raw separator.
  let decoded = "";
  for (const b of bytes) decoded += String.fromCharCode(b);
  const segments = decoded.split("/").slice(1);
  const out = [];
  let trailingSlash = false;
  for (const segment of segments) {
    trailingSlash = segment === "" || segment === "." || segment === "..";
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  let path = "/" + out.map(encodeSegment).join("/");
  if (trailingSlash && out.length > 0) path += "/";
  return { ok: true, path };
}

function encodeSegment(segment) {
  let s = "";
  for (let i = 0; i < segment.length; i++) {
    const b = segment.charCodeAt(i);
    if (b > 0x20 && b < 0x7f && !KEEP_ENCODED.has(b)) s += segment[i];
    else s += "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

const refused = (code) => ({ ok: false, code });
