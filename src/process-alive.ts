import { readFileSync } from "node:fs";

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), or null if it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Alive and still the same process (a reused pid has another start time). */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const current = processStartTime(pid);
  return current !== null && (startTime === null || current === startTime);
}
