// The worker's own answers (SPEC §8). Never cached by anyone.

function json(status, body, extra = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}

export const tryRefresh = () =>
  json(401, { message: "try refresh token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
export const unauthorised = () => json(401, { message: "unauthorised" }, { "www-authenticate": "Bearer" });
export const keysetUnavailable = () =>
  json(503, { message: "keyset unavailable" }, { "retry-after": "5" });
// The detail of a configuration or internal error is logged, never sent: clients learn nothing
// about the deployment from it.
export const internalError = () => json(500, { message: "internal error" });
export const badPath = (code) => json(400, { message: "bad request path", code });
export const upstreamUnavailable = () => json(502, { message: "upstream unavailable" });
export const statsResponse = (stats) => json(200, stats);

/** The response for a verifier outcome that is not OK. */
export function rejection(outcome) {
  switch (outcome.status) {
    case "TRY_REFRESH_TOKEN":
      return tryRefresh();
    case "KEYSET_UNAVAILABLE":
      return keysetUnavailable();
    default:
      return unauthorised();
  }
}
