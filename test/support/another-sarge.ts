/**
 * A sarge of another version, installed as a package is (no src/): the
 * checkout's packaged files with package.json's version changed, and its
 * node_modules linked to the checkout's. For upgrade and version-mismatch tests.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { packagedFiles } from "../../src/util/package-files.js";
import { packageRoot } from "../../src/util/package-root.js";

export interface AnotherSarge {
  version: string;
  /** Its bin/sarge. */
  bin: string;
  remove(): void;
}

export function anotherSarge(dir: string, version: string): AnotherSarge {
  for (const file of packagedFiles(packageRoot)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(packageRoot, file), join(dir, file));
  }
  const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...manifest, version }));
  symlinkSync(join(packageRoot, "node_modules"), join(dir, "node_modules"));
  return { version, bin: join(dir, "bin", "sarge"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
