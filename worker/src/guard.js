// Which paths need a token: GUARDED_PATHS is a list of path prefixes, matched against the
// canonical path (path.js; the prefixes are canonicalised the same way when the config is read).
// A prefix matches the path itself and anything below it at a segment boundary ("/api" guards
// "/api" and "/api/x", not "/apix"); a prefix ending in "/" matches everything that starts with
// it; "/" guards everything. Matching is case-sensitive unless the deployment says otherwise
// (GUARD_CASE_INSENSITIVE, for upstreams that route case-insensitively; ASCII letters only).

export function isGuarded(path, prefixes, { caseInsensitive = false } = {}) {
  const p = caseInsensitive ? path.toLowerCase() : path;
  return prefixes.some((raw) => {
    const prefix = caseInsensitive ? raw.toLowerCase() : raw;
    if (prefix.endsWith("/")) return p.startsWith(prefix) || p === prefix.slice(0, -1);
    return p === prefix || p.startsWith(prefix + "/");
  });
}
