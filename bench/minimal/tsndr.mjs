// The minimal Worker with @tsndr/cloudflare-worker-jwt, doing what bench/minimal/jwtedge.mjs does.
// It checks the signature, exp and nbf; issuer and audience are compared here. No EdDSA.
import jwt from "@tsndr/cloudflare-worker-jwt";

export default {
  async fetch(request, env) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    const jwk = JSON.parse(env.JWKS).keys[0];
    const out = await jwt.verify(token, jwk, { algorithm: jwk.alg });
    if (!out || out.payload.iss !== env.ISSUER || out.payload.aud !== env.AUDIENCE) {
      return new Response("UNAUTHORISED", { status: 401 });
    }
    return new Response(`hello ${out.payload.sub}`);
  },
};
