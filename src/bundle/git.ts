/** The checkout a bundle is made from: `git archive HEAD` and the facts about HEAD it needs. */
import { execFileSync } from "node:child_process";
import { basename } from "node:path";
import { SargeError } from "../util/errors.js";
import { SARGE_DIR } from "../python-env/source.js";

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
    top = git(cwd, ["rev-parse", "--show-toplevel"]).toString().trim();
    commit = git(cwd, ["rev-parse", "--verify", "HEAD^{commit}"]).toString().trim();
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    throw new SargeError(`sarge bundle works from a git checkout with a commit: ${cwd} is not one`, stderr ? { detail: stderr } : {});
  }
  const tracked = git(top, ["ls-tree", "--name-only", "HEAD", `${SARGE_DIR}`]).toString().trim();
  if (tracked !== "") {
    throw new SargeError(`the checkout tracks ${SARGE_DIR}/, where the bundle puts its wheels and launcher: rename it and commit`);
  }
  return {
    top,
    commit,
    commitTime: Number(git(top, ["log", "-1", "--format=%ct", "HEAD"]).toString().trim()),
    archive: git(top, ["archive", "--format=tar", "HEAD"]),
  };
}

/** The default bundle name: the checkout folder's name, as a file name can hold it. */
export function appName(top: string): string {
  return basename(top).replace(/[^A-Za-z0-9._-]+/g, "-") || "app";
}
