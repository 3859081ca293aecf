import { chmodSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { beforeAll } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";

/**
 * For tests that run sarge as another user (nobody, daemon): that user must
 * reach the checkout, which a clone into a 0700 `mktemp -d` folder denies.
 * Adds search permission (o+x, never read or write) to the folders above it
 * that lack it. Left in place afterwards: a test file running beside this one
 * may still need it, and search permission exposes no listing.
 */
export function letOtherUsersReachSarge(): void {
  beforeAll(() => {
    for (let dir = packageRoot; dir !== dirname(dir); dir = dirname(dir)) {
      const mode = statSync(dir).mode & 0o7777;
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    }
  });
}
