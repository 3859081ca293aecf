/**
 * Helpers for the `sarge local` end-to-end tests: each test writes a small
 * project into its own temporary folder and runs the built CLI (see
 * test/support/cli.ts) in it, with an environment cleaned of PORT and HONCHO_*.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packageRoot } from "../../src/util/package-root.js";
import { runningProcStat } from "../../src/util/proc-stat.js";
import { spawnSarge, type CliOptions, type CliResult, type SargeProcess } from "../support/cli.js";
import { waitFor } from "../support/wait.js";

if (!existsSync(join(packageRoot, "build", "src", "cli", "local.js"))) {
  throw new Error("build/ is missing: run `npm run build` before the sarge local e2e tests");
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

export interface SargeOptions extends Omit<CliOptions, "baseEnv" | "cwd"> {
  cwd: string;
}

/** Start `sarge args...` in `cwd` with the clean environment (see baseEnv); SIGKILLed after 20 s unless told. */
export function spawnLocal(args: string[], options: SargeOptions): SargeProcess {
  return spawnSarge(args, { timeoutMs: 20_000, ...options, baseEnv: baseEnv() });
}

/** Run `sarge args...` to completion. */
export function sarge(args: string[], options: SargeOptions): Promise<CliResult> {
  return spawnLocal(args, options).done;
}

/** Run `sarge local start ...` in `cwd` to completion. */
export function localStart(cwd: string, args: string[] = [], options: Omit<SargeOptions, "cwd"> = {}): Promise<CliResult> {
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
): Promise<{ lines: string[]; result: CliResult }> {
  const pattern = options.pattern ?? /^\S+ \S+ +\| (.*)$/gm;
  const run = spawnLocal(["local", "start", ...args], { cwd, env: options.env ?? {} });
  const lines = (): string[] =>
    [...run.stdout.matchAll(pattern)].map((m) => m[1]!).filter((line) => !/ (started|stopped) \(|^sending /.test(line));
  await waitFor(() => lines().length >= count || run.result !== null, `${count} lines of output`, 8000).catch(() => undefined);
  run.signal("SIGTERM");
  const result = await run.done;
  return { lines: lines(), result };
}
