// Forwarding to UPSTREAM_URL: the same method, path (appended to the upstream's path), query,
// headers (identity headers replaced) and body.

export function upstreamRequest(request, upstreamUrl, headers) {
  const incoming = new URL(request.url);
  const target = new URL(upstreamUrl.href);
  const base = target.pathname.endsWith("/") ? target.pathname.slice(0, -1) : target.pathname;
  target.pathname = base + incoming.pathname;
  target.search = incoming.search;
  headers.delete("host");
  return new Request(target.href, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
    redirect: "manual",
  });
}
