// Types of jwtedge/fetch (js/fetch.js): a framework-free guard for the Fetch API.
// `Request` and `Response` are the runtime's globals (lib "DOM", @cloudflare/workers-types or
// @types/node declare them).
import type { Claims, Outcome, Verifier } from "./jwtedge.js";

/** The statuses `guard` answers with a `Response` instead of claims. */
export type RejectedStatus = Exclude<Outcome["status"], "OK">;

export interface GuardOptions<C = Claims> {
  /**
   * Cookie to read the token from when the request has no `Authorization` header at all (an
   * `Authorization` of another scheme, or a malformed Bearer, is answered 401 instead).
   */
  tokenCookie?: string;
  /**
   * Called with the verifier's outcome, whatever its status, before `guard` resolves (for the
   * `kid`, logs or metrics). Not called when the request carries no token.
   */
  onOutcome?: (outcome: Outcome<C>) => void;
}

/**
 * Verifies the request's token (`Authorization: Bearer …`, or `tokenCookie`). Resolves to the
 * verified claims, or to the `Response` to send: 401 `{"message":"try refresh token"}`
 * (TRY_REFRESH_TOKEN), 401 `{"message":"unauthorised"}` (UNAUTHORISED, or no token), 503
 * `{"message":"keyset unavailable"}` with `Retry-After` (KEYSET_UNAVAILABLE).
 *
 * ```ts
 * const result = await guard(request, verifier);
 * if (result instanceof Response) return result;
 * result.sub; // the verified claims
 * ```
 */
export function guard<C = Claims>(
  request: Request,
  verifier: Verifier,
  options?: GuardOptions<C>,
): Promise<C | Response>;

/**
 * The request's access token, or `undefined` when it carries none `guard` accepts: `Authorization:
 * Bearer <token>`; the cookie `tokenCookie` only if there is no `Authorization` header.
 */
export function extractToken(request: Request, tokenCookie?: string): string | undefined;

/** The value of cookie `name` in a `Cookie` header value, or `undefined`. */
export function readCookie(header: string | null | undefined, name: string): string | undefined;

/** The `Response` `guard` sends for `status` (JSON, `Cache-Control: no-store`). */
export function rejection(status: RejectedStatus): Response;
