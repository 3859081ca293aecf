/**
 * The copy of sarge a home runs: `<home>/opt/sarge-<version>/`, the
 * package's files (src/util/package-files.ts) with its runtime dependencies,
 * and `opt/current` (what bin/sarge and bin/supervisord run) and
 * `opt/previous` (what `sarge upgrade --undo` goes back to), relative links.
 * Deleting or updating the checkout or global install a home was made from
 * changes nothing in the home.
 */
import { constants, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { packagedFiles, runtimeDependencyDirs } from "../util/package-files.js";
import { packageRoot } from "../util/package-root.js";
import { renderTemplate } from "../util/templates.js";
import { sargeVersion } from "../util/version.js";
import type { HomePaths } from "./paths.js";

export type Pointer = "current" | "previous";

const PREFIX = "sarge-";

export function pinnedDir(paths: HomePaths, version: string): string {
  return join(paths.opt, PREFIX + version);
}

/** The version `opt/<pointer>` names, or null. */
export function pinnedVersion(paths: HomePaths, pointer: Pointer): string | null {
  try {
    return readlinkSync(join(paths.opt, pointer)).slice(PREFIX.length);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Points `opt/<pointer>` at `version`, replacing the link in one rename. */
export function pointAt(paths: HomePaths, pointer: Pointer, version: string): void {
  const temp = join(paths.opt, `.${pointer}.${process.pid}`);
  rmSync(temp, { force: true });
  symlinkSync(PREFIX + version, temp);
  renameSync(temp, join(paths.opt, pointer));
}

/**
 * Copies the running sarge into opt/sarge-<version>/ unless it is there:
 * built into a temporary folder and renamed, so a copy is whole or absent.
 * A copy, not hard links: a link shares its owner and mode with the
 * original, so `chown -R owner <home>` would change the installed sarge too,
 * and a rebuild of a checkout rewrites its files in place (a clone where the
 * file system can).
 */
export function pinRunningSarge(paths: HomePaths): { version: string; created: boolean } {
  const version = sargeVersion();
  const target = pinnedDir(paths, version);
  if (existsSync(target)) return { version, created: false };
  const temp = join(paths.opt, `.${PREFIX}${version}.${process.pid}.tmp`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  try {
    for (const file of packagedFiles(packageRoot)) {
      mkdirSync(dirname(join(temp, file)), { recursive: true });
      copyFileSync(join(packageRoot, file), join(temp, file));
    }
    const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(temp, "package.json"), JSON.stringify({ ...manifest, version }, null, 2) + "\n");
    const dependencies = runtimeDependencyDirs(packageRoot);
    // a package nested in another's node_modules comes with that one
    for (const dir of dependencies.filter((dir) => !dependencies.some((outer) => dir.startsWith(outer + "/")))) {
      copyTree(join(packageRoot, dir), join(temp, dir));
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  return { version, created: true };
}

function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, mode: constants.COPYFILE_FICLONE });
}

/** Copies beyond `current` and `previous`; removed, their names returned. */
export function pruneCopies(paths: HomePaths): string[] {
  const kept = new Set([pinnedVersion(paths, "current"), pinnedVersion(paths, "previous")].map((version) => PREFIX + version));
  const removed = readdirSync(paths.opt).filter((name) => name.startsWith(PREFIX) && !kept.has(name));
  for (const name of removed) rmSync(join(paths.opt, name), { recursive: true, force: true });
  return removed;
}

/**
 * Which sarge runs for this home: bin/sarge, the wrapper that runs opt/current
 * (with the node init or upgrade chose) and gives --home itself. Every child
 * the server starts runs it, so after `sarge upgrade` they are the home's
 * current sarge, not the copy the server happens to run from.
 */
export function homeSarge(paths: HomePaths): string {
  return join(paths.bin, "sarge");
}

/** bin/sarge and bin/supervisord: they run opt/current with the node that runs this command. */
export function wrapperFiles(paths: HomePaths): Array<{ path: string; content: () => string }> {
  const data = { node: process.execPath, sarge: join(paths.opt, "current", "bin", "sarge"), home: paths.root };
  return [
    { path: homeSarge(paths), content: () => renderTemplate("bin-sarge", data) },
    { path: join(paths.bin, "supervisord"), content: () => renderTemplate("bin-supervisord", data) },
  ];
}
