/** wrk (the Debian package) as a benchmark's load generator, pinned to a core, and pinning the processes it loads. */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { promisify } from "node:util";

export interface WrkResult {
  requests: number;
  rps: number;
  /** Socket errors (connect, read, write, timeout) and answers other than 2xx/3xx. */
  failed: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WrkRun {
  port: number;
  connections: number;
  seconds: number;
  /** The cores wrk runs on (a taskset -c list). */
  cpu: string;
  /** Ask for a new connection per request (`Connection: close`) instead of keep-alive. */
  close: boolean;
}

/** Throws a clear error when wrk is not installed: benchmark 3 needs it (the tests never do). */
export function requireWrk(): void {
  // wrk -v prints its version and exits 1: only a missing program is an error
  if (spawnSync("wrk", ["-v"], { stdio: "ignore" }).error) {
    throw new Error("benchmark 3 (routing overhead) needs wrk: apt-get install wrk (scripts/setup.sh installs it)");
  }
}

/**
 * Sets the CPU affinity of every thread of these processes. Thread by thread, not `taskset -a`: the
 * app's threads (one per connection) come and go, and taskset -a fails on one that ended meanwhile.
 */
export function pinProcesses(pids: number[], cpus: string): void {
  for (const pid of pids) {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      const pinned = spawnSync("taskset", ["-p", "-c", cpus, thread], { stdio: "ignore" });
      if (pinned.status !== 0 && existsSync(`/proc/${pid}/task/${thread}`)) throw new Error(`taskset could not pin thread ${thread} of process ${pid} to cpus ${cpus}`);
    }
  }
}

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk printed a latency it did not explain: ${text}`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"];
}

export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp) => {
    const m = pattern.exec(output);
    if (!m) throw new Error(`wrk's output has no ${pattern.source}:\n${output}`);
    return m;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(number(/(\d+) requests in/)[1]),
    rps: Number(number(/Requests\/sec:\s+([\d.]+)/)[1]),
    failed: (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
    p50Ms: durationMs(number(/^\s+50%\s+(\S+)/m)[1]!),
    p99Ms: durationMs(number(/^\s+99%\s+(\S+)/m)[1]!),
  };
}

/** One wrk run with one thread, to completion. */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = ["-c", run.cpu, "wrk", "-t1", `-c${run.connections}`, `-d${run.seconds}s`, "--latency"];
  if (run.close) args.push("-H", "Connection: close");
  const { stdout } = await promisify(execFile)("taskset", [...args, `http://127.0.0.1:${run.port}/`], { encoding: "utf8" });
  return parseWrk(stdout);
}
