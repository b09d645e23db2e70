// Node entry of the jwtedge package (the "node" export condition): Node cannot fetch a file: URL,
// so the web build's init() would fail there; this loads the wasm synchronously instead. Users
// write `import { Verifier, verifyWithKeyset } from "jwtedge"` and need no init(); `init` (default
// and named, as in the web entry) returns at once.
// RSA and ECDSA signatures are checked here by node:crypto, synchronously (js/glue.js,
// runtimeOutcome): handed over under a registry symbol, since glue.js is imported by the wasm
// module and cannot import node: modules in the web build it also serves.
import { readFileSync } from "node:fs";
import * as nodeCrypto from "node:crypto";
import { initSync } from "./jwtedge.js";

globalThis[Symbol.for("jwtedge.node:crypto")] ??= nodeCrypto;
initSync({ module: readFileSync(new URL("./jwtedge_bg.wasm", import.meta.url)) });

export * from "./jwtedge.js";
export { default, default as init } from "./jwtedge.js";
