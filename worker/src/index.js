// jwtedge worker: guards the routes of an upstream app with the jwtedge verifier (SPEC §8).
//   guarded path + OK                 → forwarded, with x-jwtedge-sub/-sid/-kid set
//   TRY_REFRESH_TOKEN                 → 401 {"message":"try refresh token"}
//   UNAUTHORISED, or no token         → 401 {"message":"unauthorised"}
//   KEYSET_UNAVAILABLE                → 503
//   unguarded path                    → forwarded without identity headers
// Incoming x-jwtedge-* headers are always removed.

import { verifierFor } from "./verifier.js";
import { runAs } from "./request-context.js";
import { extractToken } from "./token.js";
import { isGuarded } from "./guard.js";
import { setIdentity, stripIdentity } from "./headers.js";
import { upstreamRequest } from "./forward.js";
import { misconfigured, rejection, statsResponse, unauthorised, upstreamUnavailable } from "./responses.js";

const STATS_PATH = "/__jwtedge/stats";

export default {
  fetch(request, env, ctx) {
    return runAs(ctx, () => handle(request, env));
  },
};

async function handle(request, env) {
  let edge;
  try {
    edge = verifierFor(env);
  } catch (error) {
    console.error(`jwtedge worker: ${error.message}`);
    return misconfigured(error.message);
  }
  const { config, verifier, keysetFetch } = edge;
  const url = new URL(request.url);

  if (config.exposeStats && url.pathname === STATS_PATH) {
    return statsResponse({ verifier: verifier.stats(), keysetCache: keysetFetch?.stats ?? null });
  }

  const headers = stripIdentity(request.headers);
  if (isGuarded(url.pathname, config.guardedPaths)) {
    const token = extractToken(request, config.tokenCookie);
    if (token === undefined) return unauthorised();
    const outcome = await verifier.verify(token);
    if (outcome.status !== "OK") return rejection(outcome);
    setIdentity(headers, outcome);
  }
  try {
    return await fetch(upstreamRequest(request, config.upstreamUrl, headers));
  } catch (error) {
    console.error(`jwtedge worker: upstream fetch failed: ${error.message}`);
    return upstreamUnavailable();
  }
}
