/**
 * `sarge upgrade`: switch a home to the sarge that runs the command (or,
 * with undo, back to the copy it ran before), under the deploy lock so no
 * release runs meanwhile, then bring the supervisor onto it without stopping
 * any app. See src/home/pinned-sarge.ts for the copies.
 */
import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { acquireHomeLock, describeHolder, type LockHolder } from "../release/lock.js";
import { restartDaemonOnto, type HandoverOutcome } from "../supervise/builtin/handover.js";
import { SargeError } from "../util/errors.js";
import { loadConfig } from "./config.js";
import type { HomePaths } from "./paths.js";
import { pinnedVersion, pinRunningSarge, pointAt, pruneCopies, wrapperFiles } from "./pinned-sarge.js";

export interface UpgradeReport {
  home: string;
  /** The version the home ran before (null: a home made before homes were pinned). */
  from: string | null;
  to: string;
  supervisor: HandoverOutcome | { kind: "supervisord files rendered" };
  /** Copies removed from opt/ (more than two). */
  removed: string[];
}

export async function upgradeHome(paths: HomePaths, options: { undo: boolean }): Promise<UpgradeReport> {
  const config = loadConfig(paths);
  let holder: LockHolder | undefined;
  const lock = await acquireHomeLock(paths, options.undo ? "upgrade --undo" : "upgrade", { waiting: (h) => (holder = h), takeover: () => undefined }, { timeoutMs: 0 }).catch((error: unknown) => {
    if (!holder) throw error;
    throw new SargeError(`cannot upgrade while a release runs: the home is locked by ${describeHolder(holder)}`, { detail: "Run sarge upgrade again once it is done.", cause: error });
  });
  try {
    const from = pinnedVersion(paths, "current");
    const to = options.undo ? previousOrFail(paths) : pinRunningSarge(paths).version;
    pointAt(paths, "current", to);
    if (from !== null && from !== to) pointAt(paths, "previous", from);
    for (const wrapper of wrapperFiles(paths)) {
      writeFileSync(wrapper.path, wrapper.content(), { mode: 0o755 });
      chmodSync(wrapper.path, 0o755);
    }
    const supervisor = config.supervisor === "builtin" ? await restartDaemonOnto(paths, to) : await renderSupervisordFiles(paths);
    return { home: paths.root, from, to, supervisor, removed: pruneCopies(paths) };
  } finally {
    lock.release();
  }
}

function previousOrFail(paths: HomePaths): string {
  const previous = pinnedVersion(paths, "previous");
  if (previous === null) throw new SargeError(`nothing to undo: ${paths.opt} has no previous sarge (sarge upgrade keeps the one it replaces)`);
  return previous;
}

/** supervisord's launcher and restarter, rendered by the home's current sarge (what `bin/supervisord` prepares at start). */
async function renderSupervisordFiles(paths: HomePaths): Promise<{ kind: "supervisord files rendered" }> {
  await promisify(execFile)(join(paths.bin, "sarge"), ["supervisord", "--exec-command"]);
  return { kind: "supervisord files rendered" };
}
