/** Whole-process runs of a command, timed from spawn to exit, with each stderr line stamped on arrival. */
import { spawn } from "node:child_process";
import { now } from "../../test/support/load.js";

export interface StampedLine {
  /** Epoch milliseconds (sub-millisecond precision) when the line arrived. */
  at: number;
  text: string;
}

export interface RunResult {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Epoch ms at spawn and at exit. */
  startedAt: number;
  endedAt: number;
  wallMs: number;
  stderrLines: StampedLine[];
}

export interface RunOptions {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Called with each complete stderr line as it arrives. */
  onLine?(line: StampedLine): void;
}


export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const startedAt = now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const stderrLines: StampedLine[] = [];
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      const at = now();
      const text = chunk.toString();
      stderr += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const stamped = { at, text: line };
        stderrLines.push(stamped);
        options.onLine?.(stamped);
      }
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const endedAt = now();
      if (partial) stderrLines.push({ at: endedAt, text: partial });
      resolve({ pid: child.pid, code, signal, stdout, stderr, startedAt, endedAt, wallMs: endedAt - startedAt, stderrLines });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Throws with the command's stderr unless it exited 0. */
export function check(result: RunResult, what: string): RunResult {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code ?? result.signal}):\n${result.stderr.trim().split("\n").slice(-25).join("\n")}`);
  }
  return result;
}

/**
 * The ISO timestamp sarge puts in front of each plain (non-terminal) progress
 * line, as epoch ms, or null.
 */
export function lineTime(text: string): number | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /.exec(text);
  return match ? Date.parse(match[1]!) : null;
}
