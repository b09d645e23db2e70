// Browser (and bundler) entry of the jwtedge package, the default export condition of "jwtedge":
// the web build of wasm-bindgen, with `init` also as a named export (`import { init } from
// "jwtedge"`; wasm-bindgen exports it as the default only). Call `await init()` once before the
// first Verifier: it loads jwtedge_bg.wasm from next to this module.
export * from "./jwtedge.js";
export { default, default as init } from "./jwtedge.js";
