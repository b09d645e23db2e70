// Copies the files of ../pkg the worker needs (the web-target build: jwtedge.js, its snippets and
// jwtedge_bg.wasm) into worker/vendor/jwtedge. workerd refuses module paths with `..`, so the
// worker and its copy of pkg/ must live under one root. Idempotent; fails clearly when pkg/ has
// not been built (bash scripts/build-pkg.sh).
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const workerDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = join(workerDir, "..", "pkg");
const out = join(workerDir, "vendor", "jwtedge");

for (const f of ["jwtedge.js", "jwtedge_bg.wasm", "snippets"]) {
  if (!existsSync(join(pkgDir, f))) {
    console.error(`sync-pkg: ${join(pkgDir, f)} is missing: run bash scripts/build-pkg.sh first`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const f of ["jwtedge.js", "jwtedge_bg.wasm", "snippets", "jwtedge.d.ts"]) {
  if (existsSync(join(pkgDir, f))) cpSync(join(pkgDir, f), join(out, f), { recursive: true });
}
console.log(`sync-pkg: copied pkg/ to ${out}`);
