// A minimal worker running pkg/ (the jwtedge package) in workerd for the provider-shaped
// keysets of worker/test/k-issuers.test.js: RSA and ECDSA are checked by workerd's WebCrypto.
// POST /verify {id, options, token} → {outcome, stats} with a Verifier per `id` (kept for the
// isolate's life); POST /verify-with-keyset {jwks, options, token} → {outcome, promised}, where
// `promised` says whether verifyWithKeyset answered a promise (it must, for RSA/ECDSA here).
import { Verifier, verifyWithKeyset } from "jwtedge/workers";

const verifiers = new Map();

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST") return new Response("not found", { status: 404 });
    const body = await request.json();
    try {
      if (pathname === "/verify") {
        const { id, options, token } = body;
        if (!verifiers.has(id)) verifiers.set(id, new Verifier(options));
        const verifier = verifiers.get(id);
        const outcome = await verifier.verify(token);
        return Response.json({ outcome, stats: verifier.stats() });
      }
      if (pathname === "/verify-with-keyset") {
        const { jwks, options, token } = body;
        const answer = verifyWithKeyset(token, jwks, options);
        return Response.json({ outcome: await answer, promised: answer instanceof Promise });
      }
      return new Response("not found", { status: 404 });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
