// Which paths need a token: GUARDED_PATHS is a list of path prefixes. A prefix matches the path
// itself and anything below it at a segment boundary ("/api" guards "/api" and "/api/x", not
// "/apix"); a prefix ending in "/" matches everything that starts with it; "/" guards everything.

export function isGuarded(pathname, prefixes) {
  return prefixes.some((prefix) => {
    if (prefix.endsWith("/")) return pathname.startsWith(prefix) || pathname === prefix.slice(0, -1);
    return pathname === prefix || pathname.startsWith(prefix + "/");
  });
}
