// jwtedge worker: guards the routes of an upstream app with the jwtedge verifier (SPEC §8).
//   path that depends on the upstream → 400 {"message":"bad request path"} (before anything else)
//   guarded path + OK                 → forwarded, with x-jwtedge-sub/-sid/-kid set
//   TRY_REFRESH_TOKEN                 → 401 {"message":"try refresh token"}
//   UNAUTHORISED, or no token         → 401 {"message":"unauthorised"}
//   OK, but an identity a header would alter → 401 {"message":"unauthorised"}, logged
//   KEYSET_UNAVAILABLE                → 503
//   unguarded path                    → forwarded without identity headers
//   bad bindings, or a bug            → 500 {"message":"internal error"}, the detail logged
// Incoming identity headers (x-jwtedge-*, x_jwtedge_*) are always removed. The path judged is
// the canonical one (path.js), and it is the path forwarded. The token and the 401/503 answers
// are the package's guard (jwtedge/fetch), the one implementation the Hono middleware shares.

import { guard, rejection } from "jwtedge/fetch";
import { verifierFor } from "./verifier.js";
import { runAs } from "./request-context.js";
import { canonicalPath } from "./path.js";
import { isGuarded } from "./guard.js";
import { identityOf, setIdentity, stripIdentity } from "./headers.js";
import { upstreamRequest } from "./forward.js";
import { badPath, internalError, statsResponse, upstreamUnavailable } from "./responses.js";

const STATS_PATH = "/__jwtedge/stats";

export default {
  fetch(request, env, ctx) {
    return runAs(ctx, async () => {
      try {
        return await handle(request, env);
      } catch (error) {
        console.error(`jwtedge worker: internal error: ${error?.stack ?? error}`);
        return internalError();
      }
    });
  },
};

async function handle(request, env) {
  const url = new URL(request.url);
  const path = canonicalPath(url.pathname);
  if (!path.ok) return badPath(path.code);

  let edge;
  try {
    edge = verifierFor(env);
  } catch (error) {
    console.error(`jwtedge worker: ${error.message}`);
    return internalError();
  }
  const { config, verifier, keysetFetch } = edge;

  if (config.exposeStats && path.path === STATS_PATH) {
    return statsResponse({ verifier: verifier.stats(), keysetCache: keysetFetch?.stats ?? null });
  }

  const headers = stripIdentity(request.headers);
  if (isGuarded(path.path, config.guardedPaths, { caseInsensitive: config.guardCaseInsensitive })) {
    let outcome;
    const verified = await guard(request, verifier, {
      tokenCookie: config.tokenCookie,
      onOutcome: (o) => void (outcome = o),
    });
    if (verified instanceof Response) return verified;
    // guard resolved to the claims, so `outcome` is the OK outcome (it carries the kid too).
    const identity = identityOf(outcome);
    if (!identity.ok) {
      // A token from an issuer that allows such values: forwarding it would let two identities
      // reach the upstream as one (SPEC §7 "Subjects"). The value itself is not logged.
      console.warn(`jwtedge worker: refused a verified token: ${identity.claim} ${identity.code} (kid ${JSON.stringify(typeof outcome.kid === "string" ? outcome.kid.slice(0, 64) : null)})`);
      return rejection("UNAUTHORISED");
    }
    setIdentity(headers, identity.identity);
  }
  try {
    return await fetch(upstreamRequest(request, config.upstreamUrl, path.path, headers));
  } catch (error) {
    console.error(`jwtedge worker: upstream fetch failed: ${error.message}`);
    return upstreamUnavailable();
  }
}
