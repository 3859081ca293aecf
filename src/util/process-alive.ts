import { readProcStat } from "./proc-stat.js";

/** The kernel's start time of a process, or null if it is gone. */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** Alive and still the same process (a reused pid has another start time). */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const current = processStartTime(pid);
  return current !== null && (startTime === null || current === startTime);
}
