import { readFileSync } from "node:fs";
import { recordedThisBoot } from "../util/boot-id.js";
import { SargeError } from "../util/errors.js";
import { isSameProcessAlive } from "../util/process-alive.js";
import type { SupervisorKind } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { builtinFiles } from "./builtin/daemon.js";
import { groupAlive } from "../util/process-group.js";
import { loadRecords } from "./builtin/store.js";
import { programsStillRunning, runningPrograms, supervisordPidPath } from "./supervisord/index.js";

/**
 * Refuse to start one backend while programs of the other still run: two
 * supervisors would fight over the same instances and stable ports.
 */
export async function assertOtherBackendIdle(paths: HomePaths, starting: SupervisorKind): Promise<void> {
  const other: SupervisorKind = starting === "builtin" ? "supervisord" : "builtin";
  const running =
    other === "builtin"
      ? loadRecords(builtinFiles(paths).programs)
          .filter((record) => record.pid !== null && recordedThisBoot(record.bootId) && groupAlive(record.pid))
          .map((record) => record.spec.name)
      : supervisordAlive(paths)
        ? await runningPrograms(paths)
        : // a killed supervisord leaves its programs running, for the next one to adopt
          await programsStillRunning(paths);
  if (running.length === 0) return;
  throw new SargeError(`cannot start the ${starting} supervisor: programs still run under the ${other} supervisor (${running.join(", ")})`, {
    detail:
      `etc/sarge.yaml says \`supervisor: ${starting}\`. To switch, stop the ${other} supervisor first (SIGTERM to it, or stop its systemd unit): ` +
      `it stops its programs (one that was killed left them running: start it again, it takes them back, then stop it). Then start ${paths.root}/bin/supervisord again; the next sarge command (e.g. \`sarge status\`) starts the active instances and HAProxy under the ${starting} supervisor.`,
  });
}

/** Both backends listen on the same socket path: ask supervisord only when its own pid file names a live process. */
function supervisordAlive(paths: HomePaths): boolean {
  try {
    const pid = Number(readFileSync(supervisordPidPath(paths), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && isSameProcessAlive(pid, null);
  } catch {
    return false;
  }
}
