// Node entry of the jwtedge package (the "node" export condition): Node cannot fetch a file: URL,
// so the web build's init() would fail there; this loads the wasm synchronously instead. Users
// write `import { Verifier, verifyWithKeyset } from "jwtedge"` and need no init().
import { readFileSync } from "node:fs";
import { initSync } from "./jwtedge.js";

initSync({ module: readFileSync(new URL("./jwtedge_bg.wasm", import.meta.url)) });

export * from "./jwtedge.js";
export { default } from "./jwtedge.js";
