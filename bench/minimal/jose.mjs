// The minimal Worker with jose, doing what bench/minimal/jwtedge.mjs does: the key from the keyset
// in an environment variable (imported once per isolate), issuer and audience checked.
import { importJWK, jwtVerify } from "jose";

let key;

export default {
  async fetch(request, env) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    const jwk = JSON.parse(env.JWKS).keys[0];
    key ??= await importJWK(jwk, jwk.alg);
    try {
      const { payload } = await jwtVerify(token, key, { issuer: env.ISSUER, audience: env.AUDIENCE });
      return new Response(`hello ${payload.sub}`);
    } catch {
      return new Response("UNAUTHORISED", { status: 401 });
    }
  },
};
