import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packagedFiles, packagedFolders, runtimeDependencyDirs } from "../../../src/util/package-files.js";
import { packageRoot } from "../../../src/util/package-root.js";
import { isCheckout, packageVersion, sargeVersion } from "../../../src/util/version.js";

describe("what a sarge install consists of", () => {
  it("package.json's files are the packaged folders without source maps, and it bundles its dependencies", () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { files: string[]; bundleDependencies: unknown };
    expect(manifest.files).toEqual([...packagedFolders, "!build/src/**/*.map"]);
    expect(manifest.bundleDependencies).toBe(true);
    expect(packagedFiles(packageRoot).filter((file) => file.endsWith(".map") || file.startsWith("build/test/"))).toEqual([]);
    expect(packagedFiles(packageRoot)).toEqual(expect.arrayContaining(["bin/package.json", "build/cli/sarge.cjs", "build/cli/list.cjs", "build/src/cli/main.js"]));
  });

  it("runtime dependencies are package.json's and theirs, never the dev ones", () => {
    const dirs = runtimeDependencyDirs(packageRoot);
    expect(dirs).toEqual(expect.arrayContaining(["node_modules/commander", "node_modules/fastify", "node_modules/yaml"]));
    expect(dirs.filter((dir) => /node_modules\/(vitest|typescript|playwright-core|esbuild|@types\/node)$/.test(dir))).toEqual([]);
  });

  it("a checkout's version is package.json's plus a hash of its build", () => {
    expect(isCheckout()).toBe(true);
    expect(sargeVersion()).toMatch(new RegExp(`^${packageVersion(packageRoot).replace(/\./g, "\\.")}\\+[0-9a-f]{10}$`));
  });
});
