import { execFileSync } from "node:child_process";
import { lstatSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { linkRefusal } from "../util/append-file.js";
import { SargeError } from "../util/errors.js";
import type { HomePaths } from "./paths.js";

/**
 * Before a command touches a home: refuse one that other users could tamper
 * with, and act as its owner, so that every file sarge makes there is the
 * owner's and a link the owner planted leads nowhere the owner may not write.
 * Root becomes the owner (groups, gid, uid, in this process); any other user
 * must be the owner.
 */
export function actAsHomeOwner(paths: HomePaths): void {
  const home = statOrNull(paths.root);
  if (!home?.isDirectory()) return; // no home there: the command says so in its own words
  refuseWritableByOthers([paths.root, paths.etc, dirname(paths.state), paths.run, paths.log, paths.deploy, paths.bin, paths.opt]);
  for (const file of [paths.sargeLog, paths.history]) {
    if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) throw linkRefusal(file);
  }
  becomeOwner(paths.root, home);
}

/** The same checks for a folder `sarge init` is about to fill, when it exists already. */
export function actAsOwnerOf(folder: string): void {
  const stat = statOrNull(folder);
  if (!stat?.isDirectory()) return;
  refuseWritableByOthers([folder]);
  becomeOwner(folder, stat);
}

function refuseWritableByOthers(dirs: string[]): void {
  for (const dir of dirs) {
    const mode = statOrNull(dir)?.mode;
    if (mode === undefined || (mode & 0o022) === 0) continue;
    const who = mode & 0o002 ? "other users" : "its group";
    throw new SargeError(
      `${dir} is writable by ${who} (mode 0${(mode & 0o7777).toString(8)}), who could change what sarge runs and writes there; make it writable by its owner only: chmod go-w ${dir}`,
    );
  }
}

function becomeOwner(root: string, home: Stats): void {
  const me = process.geteuid!();
  const uid = home.uid;
  if (me === uid) return;
  const owner = account(uid) ?? { name: `uid ${uid}`, gid: home.gid, groups: [home.gid], dir: null };
  if (me !== 0) {
    throw new SargeError(
      `${root} belongs to ${owner.name}, and you are ${userName(me)}: run sarge as ${owner.name} (for example with sudo -u ${owner.name}), or as root, which acts as the home's owner`,
    );
  }
  // groups first: once the uid is dropped, the process may no longer change them
  process.setgroups!(owner.groups);
  process.setgid!(owner.gid);
  process.setuid!(uid);
  // tools sarge runs (pip, python) keep caches under $HOME: the owner's, not root's
  if (owner.dir) process.env.HOME = owner.dir;
}

interface Account {
  name: string;
  gid: number;
  /** Every group the user is in, the primary one included. */
  groups: number[];
  dir: string | null;
}

/** The user database's entry for `uid` (through NSS, as `id` sees it), or null when it has none. */
function account(uid: number): Account | null {
  const entry = passwdEntry(uid);
  if (!entry) return null;
  try {
    const groups = execFileSync("id", ["-G", String(uid)], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
    return { ...entry, groups };
  } catch {
    return null;
  }
}

function passwdEntry(uid: number): Omit<Account, "groups"> | null {
  try {
    const [name, , , gid, , dir] = execFileSync("getent", ["passwd", String(uid)], { encoding: "utf8" }).trim().split(":");
    return name && gid ? { name, gid: Number(gid), dir: dir || null } : null;
  } catch {
    return null; // not listed
  }
}

export function userName(uid: number): string {
  return passwdEntry(uid)?.name ?? `uid ${uid}`;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (error) {
    throw new SargeError(`cannot inspect ${path}: ${(error as Error).message}`);
  }
}
