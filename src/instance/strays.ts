import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { HomePaths } from "../home/paths.js";
import { pollUntil } from "../util/poll.js";
import { readCommandLine, runningProcStat } from "../util/proc-stat.js";

export interface StrayProcess {
  pid: number;
  /** Its command line, arguments joined by blanks. */
  command: string;
}

/** Grace between SIGTERM and SIGKILL for processes a killed deploy left behind. */
const GRACE_MS = 3_000;

/**
 * What the supervisor adds to an instance's program environment on top of
 * SARGE_INSTANCE: with the home, it marks the program's processes, also those
 * that left its process group (a `setsid` daemon), on a server with several homes.
 */
export function programMarker(paths: HomePaths): Record<string, string> {
  return { SARGE_HOME: paths.root };
}

/**
 * Processes a killed `sarge deploy` left running for an instance that never
 * went live: its release hook or a pip build, started by sarge itself (not
 * by the supervisor), so they outlive it. Found through /proc: working
 * folder inside `dir` (also once `dir` is deleted), or SARGE_INSTANCE=<id>
 * in their environment. Call after the supervisor has removed the instance's
 * program, or its processes are listed too.
 */
export function strayProcesses(dir: string, id: string): StrayProcess[] {
  return findProcesses((pid) => {
    const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
    return cwd === dir || cwd.startsWith(`${dir}/`) || hasEnvironment(pid, { SARGE_INSTANCE: id });
  });
}

/**
 * Processes of the instance's program, by the marker in their environment
 * (see programMarker): after the supervisor stopped its process group, those
 * that escaped it. A process that cleared its environment is not found.
 */
export function markedProcesses(paths: HomePaths, id: string): StrayProcess[] {
  const marker = { SARGE_INSTANCE: id, ...programMarker(paths) };
  return findProcesses((pid) => hasEnvironment(pid, marker));
}

function findProcesses(matches: (pid: number) => boolean): StrayProcess[] {
  const found: StrayProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!runningProcStat(pid) || !matches(pid)) continue;
      const command = readCommandLine(pid);
      if (command !== null) found.push({ pid, command });
    } catch {
      // gone meanwhile, or another user's process
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

function hasEnvironment(pid: number, variables: Record<string, string>): boolean {
  const environ = `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`;
  return Object.entries(variables).every(([key, value]) => environ.includes(`\0${key}=${value}\0`));
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
