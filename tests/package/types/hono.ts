// Type test of "jwtedge/hono" and "jwtedge/fetch" (tests/package/types.test.mjs): they speak
// Request and Response, so this one compiles with lib DOM beside ES2022 / ESNext. Same rules as
// core.ts: correct usage compiles, each MISTAKE line's statement is that error.
import { Hono, type Context } from "hono";
import { jwtedge, type JwtedgeEnv } from "jwtedge/hono";
import { guard } from "jwtedge/fetch";
import { Verifier } from "jwtedge/workers";
import type { Claims } from "jwtedge";

// Claims through Hono's ContextVariableMap: no Env type needed.
const app = new Hono();
app.use("/api/*", jwtedge({ keysetUrl: "https://auth.example.com/.well-known/jwks.json", issuer: "https://auth.example.com", audience: "api" }));
app.get("/api/me", (c) => {
  const claims: Claims = c.get("jwtedge");
  const sub: string | undefined = claims.sub;
  return c.json({ sub, exp: claims.exp });
});

// Your own claims (an exact shape: no index signature) and bindings.
interface MyClaims {
  sub: string;
  exp: number;
  scope: string;
}
interface Bindings {
  KEYSET_URL: string;
}
const typed = new Hono<JwtedgeEnv<MyClaims, Bindings>>();
typed.use("/api/*", jwtedge<MyClaims, Bindings>((env) => ({ keysetUrl: env.KEYSET_URL, tokenCookie: "at", onOutcome: (o) => void o.status })));
typed.get("/api/scope", (c) => c.text(c.get("jwtedge").scope));

// The runtime's fetch, or a wrapper of it, is a keyset `fetch` option.
new Verifier({ keysetUrl: "https://auth.example.com/.well-known/jwks.json", fetch });
new Verifier({ keysetUrl: "https://auth.example.com/.well-known/jwks.json", fetch: (input, init) => fetch(input, init) });
new Verifier({ keysetUrl: "https://auth.example.com/.well-known/jwks.json", fetch: async (input, init) => new Response(`${input} ${init.redirect}`) });

// The framework-free guard.
const verifier = new Verifier({ keysetUrl: "https://auth.example.com/.well-known/jwks.json" });
export async function handler(request: Request): Promise<Response> {
  const result = await guard(request, verifier);
  if (result instanceof Response) return result;
  return Response.json({ sub: result.sub, exp: result.exp });
}

export function mistakes(): void {
  // MISTAKE TS2353: an unknown option
  // @ts-expect-error
  jwtedge({ keysetUrl: "https://auth.example.com/jwks.json", tokenCookey: "at" });

}

export function scopesOf(c: Context<JwtedgeEnv<MyClaims, Bindings>>): unknown {
  // MISTAKE TS2551: a claim the typed claims do not have ("did you mean 'scope'?")
  // @ts-expect-error
  return c.get("jwtedge").scopes;
}

export { app, typed };
