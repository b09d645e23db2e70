// Forwarding to UPSTREAM_URL: the same method, query, headers (identity headers replaced) and
// body, and exactly the path the guard judged (the canonical path, path.js; appended to the
// upstream's own path), never the client's spelling of it.

export function upstreamRequest(request, upstreamUrl, path, headers) {
  const incoming = new URL(request.url);
  const target = new URL(upstreamUrl.href);
  const base = target.pathname.endsWith("/") ? target.pathname.slice(0, -1) : target.pathname;
  // The canonical path has no dot-segments, backslashes or characters the URL parser would
  // encode, so setting it changes nothing in it.
  target.pathname = base + path;
  target.search = incoming.search;
  headers.delete("host");
  return new Request(target.href, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
    redirect: "manual",
  });
}
