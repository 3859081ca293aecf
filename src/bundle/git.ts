/** The checkout a bundle is made from: `git archive HEAD` and the facts about HEAD it needs. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { SargeError } from "../util/errors.js";
import { SARGE_DIR } from "../python-env/source.js";
import { firstMtime } from "./tar.js";

export interface Checkout {
  /** The repository's top folder. */
  top: string;
  commit: string;
  /** HEAD's committer time (seconds): git archive's mtime for every entry, and the bundle's for its own. */
  commitTime: number;
  /** `git archive --format=tar HEAD`. */
  archive: Buffer;
}

function git(cwd: string, args: string[]): Buffer {
  return execFileSync("git", args, { cwd, maxBuffer: 4 * 1024 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
}

export function readCheckout(cwd: string): Checkout {
  let top: string;
  let commit: string;
  try {
    // one git for both: each process start counts at this size of work
    [top, commit] = git(cwd, ["rev-parse", "--show-toplevel", "HEAD^{commit}"]).toString().trim().split("\n") as [string, string];
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    throw new SargeError(`sarge bundle works from a git checkout with a commit: ${cwd} is not one`, stderr ? { detail: stderr } : {});
  }
  const archive = git(top, ["archive", "--format=tar", commit]);
  return { top, commit, commitTime: firstMtime(archive), archive };
}

/** A tree that has .sarge/ of its own would mix with what the bundle adds there. */
export function refuseTrackedSargeDir(tree: string): void {
  if (existsSync(join(tree, SARGE_DIR))) {
    throw new SargeError(`the checkout tracks ${SARGE_DIR}/, where the bundle puts its wheels and launcher: rename it and commit`);
  }
}

/** The default bundle name: the checkout folder's name, as a file name can hold it. */
export function appName(top: string): string {
  return basename(top).replace(/[^A-Za-z0-9._-]+/g, "-") || "app";
}
