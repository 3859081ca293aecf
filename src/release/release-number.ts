import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HomePaths } from "../home/paths.js";

/**
 * Release numbers, one space for the CLI and the server's queue: a number is
 * claimed by creating var/run/release-claims/<n> (O_EXCL), above both
 * state.lastRelease and every standing claim, so a number the queue reserved
 * for a waiting deploy is never taken by a release that runs meanwhile.
 */
function claimsDir(paths: HomePaths): string {
  return join(paths.run, "release-claims");
}

function claimed(paths: HomePaths): number[] {
  try {
    return readdirSync(claimsDir(paths)).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
}

/** The next free release number, claimed for the caller. */
export function claimReleaseNumber(paths: HomePaths, lastRelease: number): number {
  mkdirSync(claimsDir(paths), { recursive: true, mode: 0o700 });
  for (let release = Math.max(lastRelease, ...claimed(paths)) + 1; ; release++) {
    try {
      writeFileSync(join(claimsDir(paths), String(release)), "", { flag: "wx", mode: 0o600 });
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Drop the claims state.lastRelease now covers: no number at or below it is handed out again. */
export function pruneReleaseClaims(paths: HomePaths, lastRelease: number): void {
  for (const release of claimed(paths)) if (release <= lastRelease) rmSync(join(claimsDir(paths), String(release)), { force: true });
}
