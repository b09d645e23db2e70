// The examples of the package README, as its readers see them. Each example is a fenced code
// block right after a marker line `<!-- example NAME: FILE -->`; an example may span several files
// (the Workers one: wrangler.toml and src/index.js), and one that does not have a wrangler.toml of
// its own runs with the Workers example's (the README says "with the wrangler.toml above").
// The tests write these blocks to disk byte for byte and run them: what the README shows is what
// is tested.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const MARKER = /<!-- example ([a-z]+): (\S+) -->\n```[a-z]*\n([\s\S]*?)\n```\n/g;

/** `{ name: { file: text } }` of every example in the README at `readmePath`. */
export function readmeExamples(readmePath) {
  const text = readFileSync(readmePath, "utf8");
  const examples = {};
  for (const [, name, file, body] of text.matchAll(MARKER)) {
    examples[name] ??= {};
    if (examples[name][file] !== undefined) throw new Error(`README: example ${name} has ${file} twice`);
    examples[name][file] = `${body}\n`;
  }
  return examples;
}

/** Writes example `name`'s files under `dir` (and the Workers wrangler.toml where it has none). */
export function writeExample(examples, name, dir) {
  const files = examples[name];
  if (!files) throw new Error(`README: no example "${name}"`);
  const all = { ...files };
  if (name !== "workers" && name !== "browser" && name !== "node" && !all["wrangler.toml"]) {
    all["wrangler.toml"] = examples.workers?.["wrangler.toml"];
  }
  for (const [file, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
