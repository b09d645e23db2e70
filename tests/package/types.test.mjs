// The package's TypeScript declarations (issue 10, point 1), checked with `tsc --strict --noEmit`
// from the pinned typescript in this folder:
//   - types/core.ts (main entry, jwtedge/workers) under lib ES2022 and ESNext, with no DOM and no
//     runtime types: the declarations must stand alone (no Symbol.dispose, no Response, …);
//   - types/hono.ts (jwtedge/hono, jwtedge/fetch) under lib ES2022+DOM and ESNext+DOM;
// each with Node's module resolution (nodenext) and a bundler's (Workers, Vite).
// Correct usage compiles, and every mistake sits under `// @ts-expect-error` (an unused directive
// is itself an error, so a mistake that stops being one fails the test). A copy of each file
// without the directives must then fail with exactly the error codes its MISTAKE lines name, at
// the lines that follow them: a mistake cannot pass by being some other error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const TSC = path.join(here, "node_modules", ".bin", "tsc");
const TYPES = path.join(here, "types");

function tsc(args) {
  return new Promise((resolve) => {
    execFile(TSC, ["--strict", "--noEmit", "--pretty", "false", ...args], { cwd: here, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

// Module resolution as in Node (the tsconfigs: nodenext) and as in a Workers or Vite project
// (bundler), which resolve the package's exports under different conditions.
const BUNDLER = ["--module", "preserve", "--moduleResolution", "bundler"];
const SUITES = [
  { config: "tsconfig.json", file: "core.ts", libs: ["es2022", "esnext"] },
  { config: "tsconfig.hono.json", file: "hono.ts", libs: ["es2022,dom", "esnext,dom"] },
];

for (const { config, file, libs } of SUITES) {
  for (const lib of libs) {
    for (const resolution of ["nodenext", "bundler"]) {
      test(`${file} compiles under tsc --strict with lib ${lib}, ${resolution} resolution, every mistake an expected error`, async () => {
        const args = ["-p", path.join(TYPES, config), "--lib", lib, ...(resolution === "bundler" ? BUNDLER : [])];
        const { code, output } = await tsc(args);
        assert.equal(code, 0, output);
      });
    }
  }

  test(`${file}: each mistake, without its @ts-expect-error, is the error it names`, async () => {
    const source = readFileSync(path.join(TYPES, file), "utf8").split("\n");
    const expected = [];
    const stripped = [];
    for (let i = 0; i < source.length; i++) {
      const m = /\/\/ MISTAKE (TS\d+):/.exec(source[i]);
      if (m) {
        // The directive is the next line; the mistake the one after it.
        assert.match(source[i + 1], /^\s*\/\/ @ts-expect-error\s*$/, `${file}:${i + 2} must be the directive`);
        expected.push({ line: i + 2, code: m[1] }); // the mistake's line once the directive is removed
      }
      if (/^\s*\/\/ @ts-expect-error\s*$/.test(source[i])) continue;
      stripped.push(source[i]);
    }
    assert.ok(expected.length >= 2, "the file names its mistakes");
    // The copy sits beside the original so relative paths and the tsconfig hold.
    const dir = mkdtempSync(path.join(TYPES, ".stripped-"));
    try {
      const copy = path.join(dir, file);
      writeFileSync(copy, stripped.join("\n"));
      const base = JSON.parse(readFileSync(path.join(TYPES, config), "utf8"));
      const tsconfig = { extends: `../${config}`, compilerOptions: base.compilerOptions ?? {}, files: [file] };
      writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
      const { code, output } = await tsc(["-p", path.join(dir, "tsconfig.json")]);
      assert.notEqual(code, 0, "the mistakes must not compile");
      const errors = [...output.matchAll(/\((\d+),\d+\): error (TS\d+):/g)].map((m) => ({ line: Number(m[1]), code: m[2] }));
      // Line numbers in the copy: each removed directive shifts the lines after it by one.
      const want = expected.map((e, i) => ({ line: e.line - i, code: e.code }));
      assert.deepEqual(errors, want, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
