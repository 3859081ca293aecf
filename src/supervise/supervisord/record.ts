import { readdir, readFile } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import type { HomePaths } from "../../home/paths.js";
import { currentBootId } from "../../util/boot-id.js";
import { runningProcStat } from "../../util/proc-stat.js";
import type { StopTarget } from "../../util/process-group.js";
import { programRecordPath, programRecordsDir } from "./config.js";

/** A program's process as sarge_launcher.py recorded it, while that very process still runs. */
export interface RunningRecord {
  pid: number;
  /** Epoch seconds. */
  startedAt: number;
  /** The program's stop signal. */
  stopSignal: NodeJS.Signals;
  /** Who the stop signal goes to (recorded by launchers since stop_to existed; "group" before). */
  stopTo: StopTarget;
}

/**
 * The process the launcher started for `name`, if it still runs: same boot,
 * same start time. After a SIGKILLed supervisord this is the adopted program,
 * which supervisord itself only knows as the launcher standing in for it.
 */
export async function runningRecord(paths: HomePaths, name: string): Promise<RunningRecord | null> {
  let record: { pid?: unknown; start?: unknown; boot?: unknown; startedAt?: unknown; stopSignal?: unknown; stopTo?: unknown };
  try {
    record = JSON.parse(await readFile(programRecordPath(paths, name), "utf8")) as typeof record;
  } catch {
    return null; // never started by this launcher, or written half by a power cut: nothing to adopt
  }
  const { pid, start, boot, startedAt, stopSignal, stopTo } = record;
  if (typeof pid !== "number" || pid <= 1 || typeof startedAt !== "number" || typeof stopSignal !== "number") return null;
  if (runningProcStat(pid)?.startTime !== start || boot !== currentBootId()) return null;
  const signal = Object.entries(osConstants.signals).find(([, number]) => number === stopSignal)?.[0] as NodeJS.Signals | undefined;
  return { pid, startedAt, stopSignal: signal ?? "SIGTERM", stopTo: stopTo === "main" ? "main" : "group" };
}

/** Programs whose recorded process still runs, whether supervisord does or not. */
export async function programsStillRunning(paths: HomePaths): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(programRecordsDir(paths));
  } catch {
    return [];
  }
  const names = files.filter((file) => file.endsWith(".json")).map((file) => file.slice(0, -".json".length));
  const running = await Promise.all(names.map(async (name) => ((await runningRecord(paths, name)) ? name : null)));
  return running.filter((name): name is string => name !== null).sort();
}
