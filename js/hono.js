// jwtedge/hono: a Hono middleware that guards routes with the jwtedge verifier.
//   app.use("/api/*", jwtedge({ keysetUrl, issuer, audience }));
//   app.get("/api/me", (c) => c.json({ sub: c.get("jwtedge").sub }));
// The answers are jwtedge/fetch's guard, the one implementation the worker uses too: OK → the
// verified claims on the context (`c.get("jwtedge")`) and on to the route; TRY_REFRESH_TOKEN →
// 401 {"message":"try refresh token"}; UNAUTHORISED or no token → 401 {"message":"unauthorised"};
// KEYSET_UNAVAILABLE → 503. Options are the Verifier's plus the guard's (tokenCookie, onOutcome);
// they may be a function of the bindings (`(env) => ({ keysetUrl: env.KEYSET_URL })`), since on
// Workers the bindings exist only inside a request.
// One Verifier per middleware, made by the first request and kept (per isolate on Workers, SPEC
// §8): its keyset cache lives as long as the isolate. The package's main entry resolves per
// runtime (workerd: instantiated from the imported .wasm; Node: loaded from disk; browsers and
// other bundles: `init()` fetches it), and init() returns at once where the module is ready.
import init, { Verifier } from "jwtedge";
import { guard } from "./fetch.js";

const GUARD_OPTIONS = ["tokenCookie", "onOutcome"];

export function jwtedge(options) {
  if (options === null || (typeof options !== "object" && typeof options !== "function")) {
    throw new TypeError("jwtedge/hono: jwtedge(options): options must be an object or a function of the bindings");
  }
  let made; // { verifier, guardOptions }, once the first request has made it

  async function setUp(env) {
    const all = typeof options === "function" ? options(env) : options;
    if (all === null || typeof all !== "object") {
      throw new TypeError("jwtedge/hono: the options function must return an object");
    }
    const verifierOptions = { ...all };
    const guardOptions = {};
    for (const name of GUARD_OPTIONS) {
      if (name in verifierOptions) {
        guardOptions[name] = verifierOptions[name];
        delete verifierOptions[name];
      }
    }
    await init();
    // Two first requests may both get here; the first verifier made is the one kept.
    made ??= { verifier: new Verifier(verifierOptions), guardOptions };
    return made;
  }

  return async function jwtedgeMiddleware(c, next) {
    const { verifier, guardOptions } = made ?? (await setUp(c.env));
    const result = await guard(c.req.raw, verifier, guardOptions);
    if (result instanceof Response) return result;
    c.set("jwtedge", result);
    await next();
  };
}

export default jwtedge;
