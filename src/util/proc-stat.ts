import { readFileSync } from "node:fs";

/** The fields sarge reads from /proc/<pid>/stat. */
export interface ProcStat {
  /** R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
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
  return { state: fields[0] ?? "", ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), startTime: fields[19] ?? "" };
}

/** A process's command line, arguments joined by blanks; null when it is gone or another user's. */
export function readCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replaceAll("\0", " ");
  } catch {
    return null;
  }
}

/** /proc/<pid>/stat of a process that runs: null when it is gone or a zombie waiting to be reaped. */
export function runningProcStat(pid: number): ProcStat | null {
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X" ? stat : null;
}
