import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { constants } from "node:os";

/** Processes (other than this one) whose command line or working folder mentions `path`. */
export function processesUsing(path: string): Array<{ pid: number; cmdline: string; cwd: string }> {
  const found: Array<{ pid: number; cmdline: string; cwd: string }> = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a process of another user, or one that just exited
      }
      if (cmdline.includes(path) || cwd.startsWith(path)) found.push({ pid, cmdline, cwd });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** SIGKILL every process still mentioning `path`; returns them. */
export function killProcessesUsing(path: string): Array<{ pid: number; cmdline: string; cwd: string }> {
  const leftovers = processesUsing(path);
  for (const { pid } of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return leftovers;
}

/** Whether `signal` was sent to `pid` and not yet taken by it (false once the process is gone). */
export function signalPending(pid: number, signal: NodeJS.Signals): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return false;
  }
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  return ["SigPnd", "ShdPnd"].some((field) => (BigInt(`0x${new RegExp(`^${field}:\\s+([0-9a-f]+)`, "m").exec(status)?.[1] ?? "0"}`) & bit) !== 0n);
}
