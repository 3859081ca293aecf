import { readFileSync } from "node:fs";

/** The fields sarge reads from /proc/<pid>/stat. */
export interface ProcStat {
  /** R, S, D, Z (zombie), T, … */
  state: string;
  pgrp: number;
  session: number;
  /** Start time in clock ticks since boot: with the pid, it identifies a process. */
  startTime: string;
}

/** /proc/<pid>/stat, or null when there is no such process. */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // the command name (field 2) may contain spaces and ')': the fields start after the last ')'
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", pgrp: Number(fields[2]), session: Number(fields[3]), startTime: fields[19] ?? "" };
}

/** The kernel's start time of a process, or null if it is gone. */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** Alive and still the same process (a reused pid has another start time). */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const current = processStartTime(pid);
  return current !== null && (startTime === null || current === startTime);
}
