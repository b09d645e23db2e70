// The minimal Worker with jwtedge for a pkg/ without the `jwtedge/workers` entry: the .wasm is
// imported and instantiated by hand (what that entry does). Otherwise the same as jwtedge.mjs.
import wasm from "jwtedge/jwtedge_bg.wasm";
import { initSync, verifyWithKeyset } from "jwtedge";

initSync({ module: wasm });

export default {
  async fetch(request, env) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    const out = await verifyWithKeyset(token, env.JWKS, { issuer: env.ISSUER, audience: env.AUDIENCE });
    if (out.status !== "OK") return new Response(out.status, { status: 401 });
    return new Response(`hello ${out.claims.sub}`);
  },
};
