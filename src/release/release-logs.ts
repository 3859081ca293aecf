import { existsSync } from "node:fs";
import type { HomePaths } from "../home/paths.js";
import { procOfInstanceId } from "../instance/id.js";
import { tailFile } from "../instance/log-tail.js";
import { instanceOrReleasedLog, RELEASED_LOGS_KEPT } from "../instance/released-logs.js";
import { readState } from "../instance/state.js";
import { SargeError } from "../util/errors.js";
import { readHistory } from "./history.js";

export interface ReleaseLog {
  instance: string;
  proc: string;
  text: string;
  /** false when the log is gone (pruned). */
  kept: boolean;
}

/** The last `lines` lines of each instance a release made or reused, whether it still runs, is kept, failed or was removed since. */
export function releaseLogs(paths: HomePaths, release: number, lines: number, proc?: string): ReleaseLog[] {
  const entry = readHistory(paths).find((line) => line.release === release);
  if (!entry) throw new SargeError(`release ${release} is not in the history (sarge history lists the releases)`, { exitCode: 2 });
  const state = readState(paths);
  const logs = entry.instances
    .map((id) => ({ id, proc: state.instances[id]?.proc ?? procOfInstanceId(id), live: Object.hasOwn(state.instances, id) }))
    .filter((instance) => proc === undefined || instance.proc === proc)
    .map(({ id, proc: type, live }) => {
      const file = instanceOrReleasedLog(paths, id, live);
      return { instance: id, proc: type, text: tailFile(file, lines), kept: existsSync(file) };
    });
  if (logs.length === 0) throw new SargeError(`release ${release} has no ${proc} instance (it released ${entry.procs.join(", ")})`, { exitCode: 2 });
  return logs;
}

export function describeMissingLog(log: ReleaseLog): string {
  return `(the log of ${log.instance} is gone: sarge keeps the logs of the last ${RELEASED_LOGS_KEPT} removed instances)`;
}
