// The npm pack tarball as a user gets it (issue 10, point 3): `npm pack` of pkg/, installed with
// `npm install <tarball>` into a fresh project outside the repository, then the README's Workers
// example — read from the README inside the installed package — bundled by wrangler and run in
// workerd against the test issuer. Also checks what the tarball holds: every entry its exports
// name, the package README (not the repository's), and package.json's fields (issue 10).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeIssuer } from "./issuer.mjs";
import { readmeExamples, writeExample } from "./readme.mjs";
import { exerciseWorker } from "./worker-checks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(here, "..", "..", "pkg");

function npm(args, cwd) {
  return new Promise((resolve, reject) => {
    execFile("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`npm ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`)) : resolve(stdout),
    );
  });
}

let tmp, packed, project;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "jwtedge-tarball-"));
  const [info] = JSON.parse(await npm(["pack", "--json", "--pack-destination", tmp], PKG));
  packed = info;
  project = path.join(tmp, "project");
  mkdirSync(project);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "my-api", private: true, type: "module" }));
  await npm(["install", path.join(tmp, info.filename)], project);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the tarball holds every entry, their types, the package README and a real package.json", () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const file of [
    "README.md",
    "package.json",
    "jwtedge.js",
    "jwtedge.d.ts",
    "jwtedge_bg.wasm",
    "node.js",
    "web.js",
    "workers.js",
    "workers.d.ts",
    "hono.js",
    "hono.d.ts",
    "fetch.js",
    "fetch.d.ts",
  ]) {
    assert.ok(files.includes(file), `${file} in the tarball: ${files.join(", ")}`);
  }
  assert.ok(files.some((f) => /^snippets\/.+\/glue\.js$/.test(f)), "the wasm glue snippet");
  const installed = path.join(project, "node_modules", "jwtedge");
  const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
  assert.equal(manifest.name, "jwtedge");
  assert.ok(manifest.description.length > 40 && !/example\.invalid/.test(JSON.stringify(manifest)));
  assert.equal(manifest.license, "MIT OR Apache-2.0");
  assert.equal(manifest.repository, undefined, "no placeholder repository");
  assert.equal(manifest.types, "./jwtedge.d.ts");
  assert.ok(Array.isArray(manifest.sideEffects));
  for (const entry of [".", "./workers", "./hono", "./fetch"]) {
    const conditions = manifest.exports[entry];
    assert.equal(Object.keys(conditions)[0], "types", `${entry}: types condition first`);
    for (const target of Object.values(conditions)) assert.ok(existsSync(path.join(installed, target)), `${entry} → ${target}`);
  }
  assert.equal(manifest.peerDependenciesMeta?.hono?.optional, true);
  assert.equal(manifest.dependencies, undefined, "no dependencies");
  // The package README, written for npm users, not the repository's.
  const readme = readFileSync(path.join(installed, "README.md"), "utf8");
  assert.match(readme, /^## Install$/m);
  assert.doesNotMatch(readme, /cargo /);
});

test("the README's Workers example runs in workerd from the installed tarball", async () => {
  const issuer = await makeIssuer();
  const examples = readmeExamples(path.join(project, "node_modules", "jwtedge", "README.md"));
  const dir = writeExample(examples, "workers", project);
  await exerciseWorker(dir, issuer, {
    guarded: "/",
    okBody: (body) => assert.deepEqual(body, { hello: "alice", kid: issuer.kid }),
    guardAnswers: false,
  });
});

test("Node resolves the installed tarball without init", async () => {
  writeFileSync(
    path.join(project, "probe.mjs"),
    'import { Verifier, init } from "jwtedge";\nawait init();\nconsole.log(JSON.stringify(new Verifier({ keysetUrl: "https://auth.example.com/jwks.json" }).stats()));\n',
  );
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, ["probe.mjs"], { cwd: project, timeout: 30_000 }, (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout))),
  );
  assert.deepEqual(JSON.parse(out), { fetches: 0, notModified: 0, failures: 0, cacheHits: 0, keys: 0 });
});
