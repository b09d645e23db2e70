// Cloudflare Workers entry of the jwtedge package ("jwtedge/workers", and "jwtedge" under the
// `workerd` export condition wrangler resolves). Workers have no `import.meta.url` to load the
// .wasm from, so the wasm-bindgen `init()` fails there; instead the .wasm is imported as a module
// (wrangler and workerd compile `.wasm` imports to a WebAssembly.Module, "CompiledWasm") and
// instantiated here, once per isolate, when the Worker's module graph loads. A Worker writes
// `import { Verifier } from "jwtedge/workers"` and nothing else; `init`/`initSync` are kept so
// code written for the web entry still runs (both return at once: the module is instantiated).
import wasmModule from "./jwtedge_bg.wasm";
import { initSync } from "./jwtedge.js";

initSync({ module: wasmModule });

export * from "./jwtedge.js";
export { default, default as init } from "./jwtedge.js";
