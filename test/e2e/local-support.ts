/**
 * Helpers for the `sarge local` end-to-end tests: each test writes a small
 * project into its own temporary folder and runs the built CLI (bin/sarge,
 * i.e. build/src/cli/main.js; build with `npx tsc -p tsconfig.json` first) as
 * a separate process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { runningProcStat } from "../../src/util/proc-stat.js";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The CLI under test; SARGE_LOCAL_E2E_BIN may point at another entry script while developing. */
export const sargeBin = process.env.SARGE_LOCAL_E2E_BIN ?? join(repo, "bin", "sarge");

if (!existsSync(join(repo, "build", "src", "cli", "local.js"))) {
  throw new Error("build/ is missing: run `npx tsc -p tsconfig.json` before the sarge local e2e tests");
}

/** A fresh folder holding `files` (relative path → content). */
export function project(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "sarge-local-"));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** The environment every test starts from: no PORT, PROCFILE or HONCHO_* leaking in from outside. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "PORT" || key === "PROCFILE" || key.startsWith("HONCHO_") || key.startsWith("VITEST")) continue;
    env[key] = value;
  }
  env.TZ ??= "UTC";
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SargeOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Bytes for stdin; omitted = an empty, closed stdin. */
  input?: string;
  timeoutMs?: number;
  /** Run sarge as the leader of its own process group (to signal the group, as a terminal would). */
  detached?: boolean;
}

/** A running `sarge ...` with its output so far. */
export class Sarge {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<Result>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], options: SargeOptions) {
    this.child = spawn(process.execPath, [sargeBin, ...args], {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
      detached: options.detached ?? false,
    });
    this.child.stdout!.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.notify();
    });
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
    this.child.stdin!.on("error", () => undefined);
    this.child.stdin!.end(options.input ?? "");
    const timer = setTimeout(() => {
      this.child.kill("SIGKILL");
      if (options.detached) killGroup(this.child.pid!);
    }, options.timeoutMs ?? 20_000);
    // sarge's exit ends the run; its output pipes may stay open longer when it
    // leaves children running on purpose, so wait for them only briefly.
    const closed = new Promise<void>((resolveClosed) => this.child.once("close", () => resolveClosed()));
    this.done = new Promise((resolveDone, reject) => {
      this.child.once("error", reject);
      this.child.once("exit", (code, signal) => {
        clearTimeout(timer);
        void Promise.race([closed, sleep(500)]).then(() => {
          this.child.stdout!.destroy();
          this.child.stderr!.destroy();
          resolveDone({ code, signal, stdout: this.stdout, stderr: this.stderr });
        });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolve once stdout matches `pattern` (fail after `timeoutMs`). */
  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout so far:\n${this.stdout}`);
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolveWait();
        });
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Run `sarge args...` to completion. */
export function sarge(args: string[], options: SargeOptions): Promise<Result> {
  return new Sarge(args, options).done;
}

/** Run `sarge local start ...` in `cwd` to completion. */
export function localStart(cwd: string, args: string[] = [], options: Omit<SargeOptions, "cwd"> = {}): Promise<Result> {
  return sarge(["local", "start", ...args], { cwd, ...options });
}

const TIME = /^((?:\x1b\[[\d;]*m)*)\d\d:\d\d:\d\d /gm;

/** Output with the time prefix replaced by `HH:MM:SS ` and pids by `N`, after checking the time format. */
export function normalize(output: string): string {
  return output.replace(TIME, "$1HH:MM:SS ").replace(/\(pid=\d+\)/g, "(pid=N)").replace(/\(pid \d+\)/g, "(pid N)");
}

/** The lines of `output` (normalized) that belong to `name` (its own lines and the system lines about it). */
export function linesOf(output: string, name: string): string[] {
  return normalize(output)
    .split("\n")
    .filter((line) => line.includes(` ${name} `) || line.includes(`| ${name} `) || line.includes(`to ${name} `));
}

/** honcho's log line: `YYYY-MM-DD HH:MM:SS [pid] [LEVEL] message`. */
export function logLinePattern(level: string, message: string, pid?: number): RegExp {
  const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\[${pid ?? "\\d+"}\\] \\[${level}\\] ${escaped}\\n$`);
}

/** Is a process with this pid alive (a zombie nobody has reaped yet counts as dead)? */
export function alive(pid: number): boolean {
  return runningProcStat(pid) !== null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kill a process group, ignoring errors (cleanup of processes a test left running on purpose). */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Start `sarge local start args...`, wait until `count` output lines match
 * `pattern`, then stop it with SIGTERM. For processes that report and then
 * keep running, so no first-exit shutdown races with their output.
 */
export async function startAndCollect(
  cwd: string,
  args: string[],
  count: number,
  options: { env?: Record<string, string | undefined>; pattern?: RegExp } = {},
): Promise<{ lines: string[]; result: Result }> {
  const pattern = options.pattern ?? /^\S+ \S+ +\| (.*)$/gm;
  const run = new Sarge(["local", "start", ...args], { cwd, env: options.env ?? {} });
  const lines = (): string[] =>
    [...run.stdout.matchAll(pattern)].map((m) => m[1]!).filter((line) => !/ (started|stopped) \(|^sending /.test(line));
  const deadline = Date.now() + 8000;
  while (lines().length < count && run.child.exitCode === null && Date.now() < deadline) await sleep(20);
  run.signal("SIGTERM");
  const result = await run.done;
  return { lines: lines(), result };
}
