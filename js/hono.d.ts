// Types of jwtedge/hono (js/hono.js): the Hono middleware. The verified claims are the context
// variable "jwtedge": typed as `Claims` everywhere through Hono's ContextVariableMap, or as your
// own claims type through the Env of `new Hono<JwtedgeEnv<MyClaims>>()`.
import type { MiddlewareHandler } from "hono";
import type { Claims, VerifierOptions } from "./jwtedge.js";
import type { GuardOptions } from "./fetch.js";

/** The Verifier's options and the guard's (`tokenCookie`, `onOutcome`). */
export type JwtedgeOptions<C = Claims> = VerifierOptions & GuardOptions<C>;

/** The context variables the middleware sets. */
export interface JwtedgeVariables<C = Claims> {
  /** The verified token's claims. */
  jwtedge: C;
}

/** A Hono Env with the middleware's variables (and your bindings `B`). */
export interface JwtedgeEnv<C = Claims, B extends object = object> {
  Bindings: B;
  Variables: JwtedgeVariables<C>;
}

/**
 * Guards the routes it is used on: the verified claims go to `c.get("jwtedge")`; a token to
 * refresh gets 401 `{"message":"try refresh token"}`, a refused or missing one 401
 * `{"message":"unauthorised"}`, an unreachable keyset 503. `options` may be a function of the
 * bindings (`c.env`), called once, on the first request.
 */
export function jwtedge<C = Claims, B = any>(
  options: JwtedgeOptions<C> | ((env: B) => JwtedgeOptions<C>),
): MiddlewareHandler<{ Variables: JwtedgeVariables<C> }>;
export default jwtedge;

declare module "hono" {
  interface ContextVariableMap {
    jwtedge: Claims;
  }
}
