// The worker (or a test probe) bundled the way wrangler bundles it for deployment: esbuild with
// wrangler's export conditions (workerd, worker, browser) resolves the `jwtedge` package — a
// `file:` dependency, node_modules/jwtedge → ../pkg, so a rebuilt pkg/ is what runs — and every
// `.wasm` import stays a separate module that workerd compiles (wrangler's CompiledWasm rule).
// Tests run the bundle because miniflare's own module collection follows relative paths only
// (no package resolution), and workerd refuses `..` in module paths.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, parse } from "node:path";

const bundles = new Map(); // entry path → Promise<{ dir, scriptPath }>
const dirs = [];
process.once("exit", () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Bundles `entry` (an absolute path) once per process into a temporary folder:
 * `{ dir, scriptPath }`, `dir` holding the bundle and the .wasm modules it imports.
 */
export function bundleWorker(entry) {
  if (!bundles.has(entry)) bundles.set(entry, bundle(entry));
  return bundles.get(entry);
}

async function bundle(entry) {
  const dir = mkdtempSync(join(tmpdir(), "jwtedge-worker-bundle-"));
  dirs.push(dir);
  const wasmModules = new Map(); // name in dir → source path
  await build({
    entryPoints: [entry],
    outdir: dir,
    entryNames: parse(entry).name,
    bundle: true,
    format: "esm",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    // The worker's nodejs_als flag provides node:async_hooks (AsyncLocalStorage) at runtime.
    external: ["node:async_hooks"],
    logLevel: "silent",
    plugins: [
      {
        name: "compiled-wasm",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, async (args) => {
            if (args.pluginData?.wasm) return undefined;
            const resolved = await b.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              importer: args.importer,
              pluginData: { wasm: true },
            });
            if (resolved.errors.length > 0) return { errors: resolved.errors };
            const name = basename(resolved.path);
            const known = wasmModules.get(name);
            if (known !== undefined && known !== resolved.path) {
              return { errors: [{ text: `two .wasm modules named ${name}: ${known}, ${resolved.path}` }] };
            }
            if (known === undefined) {
              if (!existsSync(resolved.path)) return { errors: [{ text: `${resolved.path} is missing (bash scripts/build-pkg.sh)` }] };
              copyFileSync(resolved.path, join(dir, name));
              wasmModules.set(name, resolved.path);
            }
            return { path: `./${name}`, external: true };
          });
        },
      },
    ],
  });
  return { dir, scriptPath: join(dir, `${parse(entry).name}.js`) };
}
