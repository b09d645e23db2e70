// The minimal Worker with jwtedge, as the package README has a Worker write it: the `jwtedge/workers`
// entry instantiates the bundled .wasm itself. The keyset comes from an environment variable, so
// the first request does no network I/O: its cost is module start-up and the first verification.
// Bundled by bench/bundle-size.mjs (size) and started in fresh isolates by
// bench/coldstart-workerd.mjs (cold start).
import { verifyWithKeyset } from "jwtedge/workers";

export default {
  async fetch(request, env) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    const out = await verifyWithKeyset(token, env.JWKS, { issuer: env.ISSUER, audience: env.AUDIENCE });
    if (out.status !== "OK") return new Response(out.status, { status: 401 });
    return new Response(`hello ${out.claims.sub}`);
  },
};
