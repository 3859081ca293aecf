/** A git checkout for `sarge bundle` tests and benchmarks: files committed once, with a fixed author. */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const git = (dir: string, args: string[]) =>
  execFileSync("git", ["-c", "user.name=sarge tests", "-c", "user.email=tests@sarge.invalid", "-c", "commit.gpgsign=false", ...args], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });

/** Copies `from` (if given) into `dir`, writes `files` over it and commits everything. Returns the commit id. */
export function makeCheckout(dir: string, options: { from?: string; files?: Record<string, string> }): string {
  mkdirSync(dir, { recursive: true });
  if (options.from) cpSync(options.from, dir, { recursive: true });
  for (const [file, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  git(dir, ["init", "-q"]);
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", "app"]);
  return git(dir, ["rev-parse", "HEAD"]).toString().trim();
}

/** Commits the working tree's changes on top; returns the new commit id. */
export function commitAll(dir: string, message = "change"): string {
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", message]);
  return git(dir, ["rev-parse", "HEAD"]).toString().trim();
}
