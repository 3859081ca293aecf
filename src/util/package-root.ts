import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding sarge's package.json. Found by walking up because the same
 * module runs from src/ (tests) and from build/src/ (the installed CLI).
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, "utf8")).name === "sarge") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("sarge's package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const templatesDir = join(packageRoot, "templates");
export const sargeBin = join(packageRoot, "bin", "sarge");
