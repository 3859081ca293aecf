/**
 * What an installed sarge consists of, one definition for the two places that
 * need it: package.json's `files` (checked by test/unit/util/package-files.test.ts)
 * and the copy `sarge init` pins into a home (src/home/pinned-sarge.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** These folders of the package root, plus package.json and the runtime dependencies. */
export const packagedFolders = ["bin", "build/cli", "build/src", "templates"] as const;

/** Every file under packagedFolders but source maps, relative to `root`, sorted. */
export function packagedFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith(".map")) files.push(relative(root, path));
    }
  };
  for (const folder of packagedFolders) if (existsSync(join(root, folder))) walk(join(root, folder));
  return files.sort();
}

/**
 * The folders of every package sarge needs at run time (package.json's
 * dependencies and theirs), found as Node resolves them: in node_modules
 * next to the requiring package, then above it up to `root`. Relative to `root`.
 */
export function runtimeDependencyDirs(root: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: object; optionalDependencies?: object };
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const resolved = resolvePackage(root, dir, name);
      if (resolved === null || found.has(resolved)) continue; // an optional one not installed on this platform
      found.add(resolved);
      visit(resolved);
    }
  };
  visit(root);
  return [...found].map((dir) => relative(root, dir)).sort();
}

function resolvePackage(root: string, from: string, name: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}
