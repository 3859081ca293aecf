import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isCodeCacheFile } from "./code-cache.js";
import { packagedFiles } from "./package-files.js";
import { packageRoot } from "./package-root.js";

/** A checkout has its TypeScript sources; an installed package and a home's pinned copy do not. */
export function isCheckout(root: string = packageRoot): boolean {
  return existsSync(join(root, "src"));
}

let cached: string | undefined;

/**
 * This sarge's version: package.json's, and from a checkout
 * `<version>+<hash>`, a hash of what would be packaged, so two different
 * builds of one version never share a home's opt/sarge-<version>/.
 */
export function sargeVersion(): string {
  cached ??= isCheckout() ? `${packageVersion(packageRoot)}+${contentHash(packageRoot)}` : packageVersion(packageRoot);
  return cached;
}

/**
 * A --json answer as the CLI prints it and the API sends it: `sarge_version`
 * first in an object, and in each object of a list.
 */
export function withSargeVersion(value: unknown): unknown {
  const versioned = (item: unknown) => (typeof item === "object" && item !== null && !Array.isArray(item) ? { sarge_version: sargeVersion(), ...item } : item);
  return Array.isArray(value) ? value.map(versioned) : versioned(value);
}

export function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

function contentHash(root: string): string {
  const hash = createHash("sha256");
  for (const file of [...packagedFiles(root).filter((file) => !isCodeCacheFile(file)), "package.json"]) hash.update(file).update("\0").update(readFileSync(join(root, file))).update("\0");
  return hash.digest("hex").slice(0, 10);
}
