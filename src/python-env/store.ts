/**
 * var/envs/: immutable environments, published atomically.
 *
 * A virtualenv cannot be moved: its pyvenv.cfg and every console script's `#!` line embed the
 * folder it was built in (measured: a moved one fails with exit 127, a copied one silently
 * runs the original's interpreter). So instead of building in a temp folder and renaming the
 * folder, the environment is built in its final folder and what is renamed into place is a
 * symlink:
 *
 *     var/envs/<key>.b<pid>-<rand>/   the environment, built here and never moved
 *     var/envs/<key> -> <key>.b<pid>-<rand>   created as a temp link + rename(2) only once the
 *                                      build is complete, so it appears atomically
 *
 * Only `var/envs/<key>` is ever looked up or linked to (instances' .venv point at it), so a
 * build that is killed leaves a folder nothing names; a later build removes such folders once
 * the pid in their name is no longer alive. Scripts keep a valid `#!` path because the folder
 * they were built in is where they stay.
 */
import { lstatSync, readlinkSync } from "node:fs";
import { readFile, readdir, readlink, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { HomePaths } from "../home/paths.js";

export const MANIFEST = ".sarge-env.json";
const keyPattern = /^[0-9a-f]{20}$/;
const buildDirPattern = /^([0-9a-f]{20})\.b(\d+)-[0-9a-z]+$/;

/** Build folders this process is working on right now (never garbage, whatever the pid says). */
const activeBuilds = new Set<string>();

export function isKey(name: string): boolean {
  return keyPattern.test(name);
}

/** The published environment for a key (`var/envs/<key>`), or null if there is none (or it is not whole). */
export async function findEnvironment(envs: string, key: string): Promise<string | null> {
  const link = join(envs, key);
  try {
    const manifest = JSON.parse(await readFile(join(link, MANIFEST), "utf8")) as { key?: string };
    return manifest.key === key ? link : null;
  } catch {
    return null;
  }
}

/** Reserves a build folder name for a key; the caller creates it. */
export function startBuild(envs: string, key: string): string {
  const dir = join(envs, `${key}.b${process.pid}-${randomBytes(4).toString("hex")}`);
  activeBuilds.add(dir);
  return dir;
}

export function endBuild(dir: string): void {
  activeBuilds.delete(dir);
}

/** Makes `var/envs/<key>` point at a complete build folder, atomically (temp link + rename). */
export async function publish(envs: string, key: string, buildDir: string): Promise<string> {
  const link = join(envs, key);
  const temp = `${buildDir}.link`;
  await rm(temp, { force: true });
  await symlink(basename(buildDir), temp);
  try {
    await rename(temp, link);
  } catch (error) {
    // something that is not a link squats on the name (a hand-made folder): it is not ours to trust
    if ((error as NodeJS.ErrnoException).code !== "EISDIR" && (error as NodeJS.ErrnoException).code !== "ENOTEMPTY") throw error;
    await rm(link, { recursive: true, force: true });
    await rename(temp, link);
  }
  return link;
}

/** No build takes this long: an unpublished folder this old is garbage whatever its pid says. */
const ABANDONED_AFTER_MS = 6 * 3600_000;

async function olderThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs > ms;
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what no published key names: build folders whose builder is gone (killed builds),
 * leftover temp links, links whose folder is gone. Returns the names removed.
 */
export async function removeStale(envs: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(envs);
  } catch {
    return [];
  }
  const published = new Set<string>();
  const removed: string[] = [];
  for (const name of names) {
    if (!isKey(name)) continue;
    try {
      const target = await readlink(join(envs, name));
      if (names.includes(target)) published.add(target);
      else {
        await unlink(join(envs, name));
        removed.push(name);
      }
    } catch {
      // not a link: left alone
    }
  }
  for (const name of names) {
    const path = join(envs, name);
    if (name.endsWith(".link") && buildDirPattern.test(name.slice(0, -5))) {
      const m = buildDirPattern.exec(name.slice(0, -5))!;
      if (!pidAlive(Number(m[2]))) {
        await rm(path, { force: true });
        removed.push(name);
      }
      continue;
    }
    const m = buildDirPattern.exec(name);
    if (!m || published.has(name) || activeBuilds.has(path)) continue;
    if (Number(m[2]) !== process.pid && pidAlive(Number(m[2])) && !(await olderThan(path, ABANDONED_AFTER_MS))) {
      continue; // another process is building it (a pid reused after a reboot is caught by the age limit)
    }
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Removes every environment whose key is not in `keep`, plus stale build folders. Keys that an
 * instance folder under deploy/ still links to are kept as well, so an environment is never
 * pulled from under an instance that exists. Returns the keys removed.
 */
export async function collectEnvironments(paths: HomePaths, keep: Set<string>): Promise<string[]> {
  const protectedKeys = new Set(keep);
  for (const instance of await readdir(paths.deploy).catch(() => [] as string[])) {
    const key = environmentKeyOf(join(paths.deploy, instance));
    if (key) protectedKeys.add(key);
  }
  const removed: string[] = [];
  for (const name of await readdir(paths.envs).catch(() => [] as string[])) {
    if (!isKey(name) || protectedKeys.has(name)) continue;
    const link = join(paths.envs, name);
    let target: string;
    try {
      target = await readlink(link);
    } catch {
      continue; // not a link: not something sarge published
    }
    // unpublish first (atomic), then delete the folder: a crash in between leaves only garbage
    await unlink(link);
    if (buildDirPattern.test(target)) await rm(join(paths.envs, target), { recursive: true, force: true });
    removed.push(name);
  }
  await removeStale(paths.envs);
  return removed;
}

/** The key an app folder's `.venv` link names, or null (no link, or not a sarge environment). */
export function environmentKeyOf(appDir: string): string | null {
  const link = join(appDir, ".venv");
  try {
    if (!lstatSync(link).isSymbolicLink()) return null;
    const key = basename(resolve(appDir, readlinkSync(link)));
    return isKey(key) ? key : null;
  } catch {
    return null;
  }
}

/** Points `<appDir>/.venv` at an environment (replacing whatever .venv the archive had). */
export async function linkEnvironment(appDir: string, envDir: string): Promise<void> {
  const link = join(appDir, ".venv");
  const temp = join(appDir, `.venv.${process.pid}.tmp`);
  await rm(temp, { force: true });
  await symlink(envDir, temp);
  try {
    await rename(temp, link);
  } catch {
    await rm(link, { recursive: true, force: true });
    await rename(temp, link);
  }
}
