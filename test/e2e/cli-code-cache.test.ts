/**
 * The bundled commands' V8 code caches (src/util/code-cache.ts). V8 keeps what
 * it compiled for the life of a process, so each load runs in a fresh `node`,
 * as bin/sarge does.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bundledCommands } from "../../src/cli/launch.js";
import { packageRoot } from "../../src/util/package-root.js";

const codeCacheModule = join(packageRoot, "build", "src", "util", "code-cache.js");

/** Runs `body` in a fresh node with `requireBundle`, `makeCodeCache` and `codeCacheFile` in scope and `file` as the bundle; returns what it prints. */
function inFreshNode(body: string, file: string): string {
  const script = `import { requireBundle, makeCodeCache, codeCacheFile } from ${JSON.stringify(codeCacheModule)};\nimport { writeFileSync } from "node:fs";\nconst file = process.argv[1];\n${body}`;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script, file], { encoding: "utf8" }).trim();
}

const load = (file: string) => JSON.parse(inFreshNode(`const { cache, exports } = requireBundle(file); console.log(JSON.stringify({ cache, answer: exports.answer?.() }));`, file));
const makeCache = (file: string) => inFreshNode(`writeFileSync(codeCacheFile(file), makeCodeCache(file));`, file);

describe("a bundle's code cache", () => {
  let dir: string;
  let bundle: string;
  const writeBundle = (answer: number) =>
    // the answer is top-level code, which is what a cache holds
    writeFileSync(bundle, `const other = require("./other.cjs");\nconst answer = ${answer};\nexports.answer = () => answer;\nexports.other = other;\nexports.where = [__filename, __dirname];\nexports.fail = () => { throw new Error("line 6"); };\n`);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-code-cache-"));
    bundle = join(dir, "cmd.cjs");
    writeFileSync(join(dir, "other.cjs"), "module.exports = 'beside it';\n");
    writeBundle(41);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is used by a fresh node, which loads the bundle as require does with or without it", () => {
    const probe = `const { cache, exports } = requireBundle(file);
let line; try { exports.fail(); } catch (error) { line = error.stack.split("\\n")[1]; }
console.log(JSON.stringify({ cache, answer: exports.answer(), other: exports.other, where: exports.where, line }));`;
    // the wrapper stays on the first line: stack traces point at the bundle's own lines
    const expected = { answer: 41, other: "beside it", where: [bundle, dir], line: expect.stringContaining(`${bundle}:6:`) };
    expect(JSON.parse(inFreshNode(probe, bundle))).toEqual({ cache: "missing", ...expected });
    makeCache(bundle);
    expect(JSON.parse(inFreshNode(probe, bundle))).toEqual({ cache: "used", ...expected });
  });

  it("is not used for other bytes of the same length, which V8 alone would accept", () => {
    makeCache(bundle);
    writeBundle(42);
    expect(load(bundle)).toEqual({ cache: "other-bundle", answer: 42 });
  });

  it("is not used when V8 refuses it, and the bundle is compiled from source", () => {
    makeCache(bundle);
    inFreshNode(`const digest = makeCodeCache(file).subarray(0, 32); writeFileSync(codeCacheFile(file), Buffer.concat([digest, Buffer.from("not V8's data")]));`, bundle);
    expect(load(bundle)).toEqual({ cache: "rejected-by-v8", answer: 41 });
  });

  it("is written by the build for every bundled command, and this node uses it", () => {
    for (const command of bundledCommands) {
      const file = join(packageRoot, "build", "cli", `${command}.cjs`);
      expect(inFreshNode(`console.log(requireBundle(file).cache);`, file), command).toBe("used");
    }
  });
});

describe("a checkout's version", () => {
  it("changes with a bundle, and not with the code cache the build made beside it", () => {
    const checkout = mkdtempSync(join(tmpdir(), "sarge-code-cache-version-"));
    try {
      mkdirSync(join(checkout, "src"));
      for (const part of ["bin", "build", "templates", "package.json"]) cpSync(join(packageRoot, part), join(checkout, part), { recursive: true });
      const versionModule = join(checkout, "build", "src", "util", "version.js");
      const version = () => execFileSync(process.execPath, ["--input-type=module", "-e", `import { sargeVersion } from ${JSON.stringify(versionModule)}; console.log(sargeVersion());`], { encoding: "utf8" }).trim();
      const built = version();
      expect(built).toMatch(/^\d+\.\d+\.\d+\+[0-9a-f]{10}$/);
      appendFileSync(join(checkout, "build", "cli", "list.cjs.v8-cache"), "another build's bytes");
      expect(version()).toBe(built);
      appendFileSync(join(checkout, "build", "cli", "list.cjs"), "\n");
      expect(version()).not.toBe(built);
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});
