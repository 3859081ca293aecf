/** /proc readings, TCP probes and free ports (127.0.0.1 only). */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { accepts } from "../../test/support/ports.js";
import { setTimeout as sleep } from "node:timers/promises";

/** Resident and peak resident memory of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system) from /proc/<pid>/stat: the process's own, and its children's
 * that it has waited for (a whole command tree lands there when it exits; processes handed to
 * a supervisor are not its descendants and do not count).
 */
export function cpuOf(pid: number | "self"): { own: number; reaped: number } {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // fields after the ")" that closes the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { own: (Number(fields[11]) + Number(fields[12])) / clockTicks, reaped: (Number(fields[13]) + Number(fields[14])) / clockTicks };
}

/** CPU time (user + system) a process used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  return cpuOf(pid).own;
}

/** CPU time (user + system, seconds) of this process's children that have been waited for (sarge deploy with its pip, venv and release command). */
export function reapedChildrenCpuSeconds(): number {
  return cpuOf("self").reaped;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Poll every `intervalMs` until the port accepts; resolves with the time it took (ms), throws after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, intervalMs = 5): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await accepts(port)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
