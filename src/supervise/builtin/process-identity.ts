import { SargeError } from "../../util/errors.js";
import { readProcStat, runningProcStat } from "../../util/proc-stat.js";

/**
 * The kernel's start time of a process (clock ticks since boot). With the pid,
 * it identifies one process across a daemon restart even if the pid is reused.
 */
export function readStartTime(pid: number): string {
  const stat = readProcStat(pid);
  if (!stat) throw new SargeError(`process ${pid} vanished right after it was started`);
  return stat.startTime;
}

/**
 * - alive: that very process still runs;
 * - gone: no process has that pid (or it is a zombie): its group may still have members;
 * - reused: another process got the pid, so the old group is necessarily empty
 *   (the kernel does not hand out a pid still used as a group id).
 */
export type Liveness = "alive" | "gone" | "reused";

export function identify(pid: number, startTime: string): Liveness {
  const stat = runningProcStat(pid);
  if (!stat) return "gone";
  return stat.startTime === startTime ? "alive" : "reused";
}
