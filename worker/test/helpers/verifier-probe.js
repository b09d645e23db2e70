// A minimal worker that runs pkg/ (the jwtedge package) inside workerd, so tests can drive the
// Verifier itself — its keyset fetch, redirect handling and freshness — in the Workers runtime,
// without the guard worker around it. POST /verify {id, options, token} → {outcome, stats}; each
// `id` gets its own Verifier, kept for the isolate's life.
import { Verifier } from "jwtedge/workers";

const verifiers = new Map();

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST" || pathname !== "/verify") return new Response("not found", { status: 404 });
    const { id, options, token } = await request.json();
    try {
      if (!verifiers.has(id)) verifiers.set(id, new Verifier(options));
      const verifier = verifiers.get(id);
      const outcome = await verifier.verify(token);
      return Response.json({ outcome, stats: verifier.stats() });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
