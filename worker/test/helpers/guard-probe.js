// A minimal Worker written as a package user writes one with jwtedge/fetch: a Verifier per
// isolate, then `guard(request, verifier)` → the claims, or the Response to send. For
// worker/test/m-fetch-guard.test.js. Bindings: KEYSET_URL, ISSUER; TOKEN_COOKIE (optional).
//   any path         → guard; claims → 200 {claims, outcomes}; a Response → sent as it is, with
//                      the outcomes onOutcome saw in `x-test-outcomes` (JSON)
//   /__test/options  → guard with the options in the JSON body: 200 {claims} or 400 {error}
import { guard } from "jwtedge/fetch";
import { Verifier } from "jwtedge/workers";

let verifier;

export default {
  async fetch(request, env) {
    verifier ??= new Verifier({
      keysetUrl: env.KEYSET_URL,
      issuer: env.ISSUER,
      audience: "api",
      fetchTimeoutSeconds: 1,
    });
    if (new URL(request.url).pathname === "/__test/options") {
      const options = await request.json();
      try {
        const result = await guard(request, verifier, options);
        return Response.json(result instanceof Response ? { status: result.status } : { claims: result });
      } catch (error) {
        return Response.json({ error: `${error.name}: ${error.message}` }, { status: 400 });
      }
    }
    const outcomes = [];
    const options = { onOutcome: (outcome) => void outcomes.push(outcome) };
    if (env.TOKEN_COOKIE) options.tokenCookie = env.TOKEN_COOKIE;
    const result = await guard(request, verifier, options);
    if (result instanceof Response) {
      result.headers.set("x-test-outcomes", JSON.stringify(outcomes));
      return result;
    }
    return Response.json({ claims: result, outcomes });
  },
};
