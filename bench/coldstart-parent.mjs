// The workerd side of the cold-start benchmark: each request starts the minimal Worker of one
// contender in a fresh isolate (a Worker Loader with an id never used before), sends it its first
// request and answers how long that took. Timed inside workerd around the loader call and the
// first request's answer: both are I/O for this isolate, so its clock advances across them (it
// stands still during compute only). See bench/coldstart-workerd.mjs.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const spec = JSON.parse(env.CONTENDERS)[url.searchParams.get("contender")];
    const input = JSON.parse(env.INPUT)[url.searchParams.get("alg")];
    const token = url.searchParams.get("tampered") ? input.tampered : input.token;
    const code = () => ({
      compatibilityDate: env.COMPATIBILITY_DATE,
      mainModule: spec.main,
      modules: Object.fromEntries(spec.modules.map((m) => [m.name, m.wasm ? { wasm: env[m.binding] } : { js: env[m.binding] }])),
      env: { JWKS: input.jwks, ISSUER: env.ISSUER, AUDIENCE: env.AUDIENCE },
      globalOutbound: null, // no network: the first request must not depend on any
    });
    const start = performance.now();
    const worker = env.LOADER.get(url.searchParams.get("id"), async () => code());
    const res = await worker.getEntrypoint().fetch("http://minimal/", { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    const ms = performance.now() - start;
    return Response.json({ status: res.status, body, ms });
  },
};
