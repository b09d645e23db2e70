// Turns wasm-pack's output in pkg/ into the npm package users install (SPEC §6 "The package"):
// copies the hand-written entries, their type declarations and the package README from js/, and
// rewrites package.json (entries with a `types` condition each, sideEffects, files). Run by
// scripts/build-pkg.sh after wasm-pack; `node scripts/pkg-manifest.mjs [pkgDir]`.
//
// Entries (exports):
//   "."                types jwtedge.d.ts; workerd → workers.js (wrangler resolves it: no init),
//                      node → node.js (no init), default → web.js (browsers: `await init()`)
//   "./workers"        workers.js: imports the .wasm as a module and instantiates it itself
//   "./hono"           hono.js: the Hono middleware (hono is an optional peer dependency)
//   "./fetch"          fetch.js: the framework-free guard(request, verifier)
//   "./web"            web.js, whatever the runtime (e.g. a Worker that loads the .wasm itself)
//   "./jwtedge_bg.wasm" the module itself, for `initSync({ module })`
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const js = path.join(root, "js");
const pkgDir = path.resolve(process.argv[2] ?? path.join(root, "pkg"));

// js/ file → pkg/ file. jwtedge.d.ts replaces wasm-bindgen's declarations (every value `any`).
const COPIES = [
  ["node.js", "node.js"],
  ["web.js", "web.js"],
  ["workers.js", "workers.js"],
  ["workers.d.ts", "workers.d.ts"],
  ["hono.js", "hono.js"],
  ["hono.d.ts", "hono.d.ts"],
  ["fetch.js", "fetch.js"],
  ["fetch.d.ts", "fetch.d.ts"],
  ["jwtedge.d.ts", "jwtedge.d.ts"],
  ["README.md", "README.md"],
];
for (const [from, to] of COPIES) {
  const source = path.join(js, from);
  if (!existsSync(source)) throw new Error(`pkg-manifest: js/${from} is missing`);
  copyFileSync(source, path.join(pkgDir, to));
}

const manifestPath = path.join(pkgDir, "package.json");
const pkg = JSON.parse(readFileSync(manifestPath, "utf8"));
const entry = (types, file) => ({ types, default: file });

const exports = {
  ".": {
    types: "./jwtedge.d.ts",
    workerd: "./workers.js",
    node: "./node.js",
    default: "./web.js",
  },
  "./workers": entry("./workers.d.ts", "./workers.js"),
  "./hono": entry("./hono.d.ts", "./hono.js"),
  "./fetch": entry("./fetch.d.ts", "./fetch.js"),
  "./web": entry("./jwtedge.d.ts", "./web.js"),
  "./jwtedge_bg.wasm": "./jwtedge_bg.wasm",
  "./package.json": "./package.json",
};
const manifest = {
  name: pkg.name,
  version: pkg.version,
  description:
    "Verify JWT access tokens in Cloudflare Workers, browsers and Node: WebAssembly verifier with a cached, " +
    "rotating JWKS keyset, exact TypeScript types, a Hono middleware and a Fetch API guard",
  license: pkg.license,
  type: "module",
  keywords: ["jwt", "jwks", "jws", "access-token", "cloudflare-workers", "hono", "webassembly", "eddsa"],
  main: "./node.js",
  module: "./web.js",
  types: "./jwtedge.d.ts",
  exports,
  // The entries that instantiate the module when imported, and the glue wasm-bindgen imports.
  sideEffects: ["./node.js", "./workers.js", "./snippets/*"],
  files: ["jwtedge_bg.wasm", "jwtedge.js", "snippets", ...COPIES.map(([, to]) => to)],
  peerDependencies: { hono: ">=4.0.0" },
  peerDependenciesMeta: { hono: { optional: true } },
  engines: { node: ">=20" },
};
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
