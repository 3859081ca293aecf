import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-file.js";
import { SargeError } from "../util/errors.js";
import { currentUser } from "../util/current-user.js";
import type { HomePaths } from "./paths.js";

/** `sarge lock "reason"`: while it stands every deploy is refused unless forced; rollback and config changes stay allowed. */
export interface DeployFreeze {
  reason: string;
  who: string;
  since: string;
}

export function deployFreezePath(paths: HomePaths): string {
  return join(paths.root, "var", "deploy-freeze.json");
}

export function readDeployFreeze(paths: HomePaths): DeployFreeze | null {
  try {
    return JSON.parse(readFileSync(deployFreezePath(paths), "utf8")) as DeployFreeze;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SargeError(`${deployFreezePath(paths)} is unreadable: ${(error as Error).message}`, { detail: "Remove it to lift the lock, or run sarge lock again." });
  }
}

/** Lock deploys; refused while a lock already stands (its reason is not silently replaced). */
export function freezeDeploys(paths: HomePaths, reason: string, who = currentUser()): DeployFreeze {
  if (reason.trim() === "") throw new SargeError("give the reason for the lock: sarge lock \"<reason>\"", { exitCode: 2 });
  const standing = readDeployFreeze(paths);
  if (standing) throw new SargeError(`deploys are already ${describeFreeze(standing)}`, { detail: "sarge unlock lifts it first." });
  const freeze = { reason: reason.trim(), who, since: new Date().toISOString() };
  writeFileAtomic(deployFreezePath(paths), JSON.stringify(freeze) + "\n", 0o600);
  return freeze;
}

/** Lift the lock; returns the one lifted, or null when deploys were not locked. */
export function unfreezeDeploys(paths: HomePaths): DeployFreeze | null {
  const standing = readDeployFreeze(paths);
  rmSync(deployFreezePath(paths), { force: true });
  return standing;
}

export function describeFreeze(freeze: DeployFreeze): string {
  return `locked by ${freeze.who} since ${freeze.since}: ${freeze.reason}`;
}

/** A deploy refused by the deploy lock: exit code 4 (the API answers 423). */
export class DeployFrozenError extends SargeError {
  constructor(readonly freeze: DeployFreeze) {
    super(`deploys are ${describeFreeze(freeze)}`, {
      detail: "Rollback still works. sarge unlock lifts the lock; an admin may deploy through it with --force.",
      exitCode: 4,
    });
  }
}

/** Refuse a deploy while deploys are locked, unless forced. */
export function assertDeploysOpen(paths: HomePaths, force: boolean): void {
  const freeze = readDeployFreeze(paths);
  if (freeze && !force) throw new DeployFrozenError(freeze);
}
