// The worker's own answers, beside the guard's 401/503 (jwtedge/fetch): a refused path, a bad
// configuration or a bug, an unreachable upstream, the stats route. Never cached by anyone.

function json(status, body, extra = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}

// The detail of a configuration or internal error is logged, never sent: clients learn nothing
// about the deployment from it.
export const internalError = () => json(500, { message: "internal error" });
export const badPath = (code) => json(400, { message: "bad request path", code });
export const upstreamUnavailable = () => json(502, { message: "upstream unavailable" });
export const statsResponse = (stats) => json(200, stats);
