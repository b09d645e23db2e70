// A part of jwtedge's cold start, for bench/coldstart-workerd.mjs: only the .wasm module compiled
// when the isolate starts (workerd compiles a CompiledWasm module as it loads the Worker), not
// instantiated, no glue.
import wasm from "jwtedge/jwtedge_bg.wasm";

export default {
  async fetch() {
    return new Response(String(wasm instanceof WebAssembly.Module));
  },
};
