// A part of jwtedge's cold start, for bench/coldstart-workerd.mjs: the minimal Worker's start-up
// alone (the .wasm compiled, the glue loaded, the module instantiated by `jwtedge/workers`) and a
// first request that verifies nothing. Its cold start less jwtedge.mjs's is the first verification.
import { Verifier } from "jwtedge/workers";

export default {
  async fetch() {
    return new Response(typeof Verifier);
  },
};
