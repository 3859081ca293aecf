import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { pollUntil } from "../util/poll.js";
import { runningProcStat } from "../util/proc-stat.js";

export interface StrayProcess {
  pid: number;
  /** Its command line, arguments joined by blanks. */
  command: string;
}

/** Grace between SIGTERM and SIGKILL for processes a killed deploy left behind. */
const GRACE_MS = 3_000;

/**
 * Processes a killed `sarge deploy` left running for an instance that never
 * went live: its release hook or a pip build, started by sarge itself (not
 * by the supervisor), so they outlive it. Found through /proc: working
 * folder inside `dir` (also once `dir` is deleted), or SARGE_INSTANCE=<id>
 * in their environment. Call after the supervisor has removed the instance's
 * program, or its processes are listed too.
 */
export function strayProcesses(dir: string, id: string): StrayProcess[] {
  const found: StrayProcess[] = [];
  const marker = `\0SARGE_INSTANCE=${id}\0`;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!runningProcStat(pid)) continue;
      const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
      const inside = cwd === dir || cwd.startsWith(`${dir}/`) || `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`.includes(marker);
      if (!inside) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replaceAll("\0", " ");
      found.push({ pid, command });
    } catch {
      // gone meanwhile, or another user's process
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** SIGTERM, then SIGKILL what is still there after a grace period. Resolves when all are gone. */
export async function stopStrayProcesses(processes: StrayProcess[]): Promise<void> {
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  for (const { pid } of processes) signal(pid, "SIGTERM");
  let left = processes;
  await pollUntil(
    () => {
      left = left.filter(({ pid }) => runningProcStat(pid) !== null);
      return left.length === 0;
    },
    { timeoutMs: GRACE_MS, intervalMs: 50 },
  );
  for (const { pid } of left) signal(pid, "SIGKILL");
}
