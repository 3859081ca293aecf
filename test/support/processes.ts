import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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
