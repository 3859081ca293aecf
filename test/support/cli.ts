/**
 * The one way tests and benchmarks run the built CLI (bin/sarge: build/cli/'s bundles,
 * else build/src/cli/main.js; `npm run build` first) as a separate process:
 * runSarge awaits the result, spawnSarge gives the live process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { packageRoot } from "../../src/util/package-root.js";
import { waitFor } from "./wait.js";
import type { SystemUser } from "./system-users.js";

export const sargeBin = join(packageRoot, "bin", "sarge");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Bytes for stdin; omitted = stdin closed empty. */
  input?: Buffer | string;
  /** Leave stdin open after `input` (a deploy that waits for the rest of its archive). */
  keepStdinOpen?: boolean;
  /** Laid over `baseEnv`; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** The environment `env` is laid over (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run this executable instead of bin/sarge (a home's bin/sarge wrapper). */
  bin?: string;
  /** Run sarge as the leader of its own process group (to signal the group, as a terminal would). */
  detached?: boolean;
  /** Called with each chunk of stderr as it arrives (progress lines). */
  onStderr?(chunk: string): void;
  /** SIGKILL (the whole group when detached) after this long; default 120 s. */
  timeoutMs?: number;
  /** Run sarge as this user (the tests run as root), with its HOME. */
  user?: SystemUser;
}

/** A running `sarge ...` with its output so far. */
export class SargeProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  /** Set once `done` has resolved. */
  result: CliResult | null = null;
  readonly done: Promise<CliResult>;
  readonly serial = started++;
  readonly detached: boolean;

  constructor(
    private readonly args: string[],
    options: CliOptions = {},
  ) {
    this.detached = options.detached ?? false;
    const [command, commandArgs] = options.bin ? [options.bin, args] : [process.execPath, [sargeBin, ...args]];
    this.child = spawn(command, commandArgs, {
      cwd: options.cwd ?? packageRoot,
      env: { ...(options.baseEnv ?? process.env), ...(options.user && { HOME: options.user.home, USER: options.user.name, LOGNAME: options.user.name }), ...options.env },
      ...(options.user && { uid: options.user.uid, gid: options.user.gid }),
      stdio: ["pipe", "pipe", "pipe"],
      detached: this.detached,
    });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
      options.onStderr?.(chunk.toString());
    });
    this.child.stdin!.on("error", () => undefined);
    if (options.input !== undefined) this.child.stdin!.write(options.input);
    if (!options.keepStdinOpen) this.child.stdin!.end();
    const timer = setTimeout(() => void this.kill(), options.timeoutMs ?? 120_000);
    // sarge's exit ends the run; its output pipes may stay open longer when it
    // leaves children running on purpose, so wait for them only briefly.
    const closed = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
    this.done = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("exit", (code, signal) => {
        clearTimeout(timer);
        void Promise.race([closed, sleep(500)]).then(() => {
          this.child.stdout!.destroy();
          this.child.stderr!.destroy();
          this.result = { code, signal, stdout: this.stdout, stderr: this.stderr };
          resolve(this.result);
        });
      });
    });
    live.add(this);
    void this.done.finally(() => live.delete(this));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout matches `pattern`; fails when sarge ends first or after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string[]> {
    return this.waitForOutput("stdout", pattern, timeoutMs);
  }

  /** Resolves once stderr matches `pattern`; fails when sarge ends first or after `timeoutMs`. */
  waitForStderr(pattern: RegExp | string, timeoutMs = 60_000): Promise<string[]> {
    return this.waitForOutput("stderr", pattern, timeoutMs);
  }

  private waitForOutput(stream: "stdout" | "stderr", pattern: RegExp | string, timeoutMs: number): Promise<string[]> {
    const what = `sarge ${this.args.join(" ")} to print ${String(pattern)} on ${stream}`;
    return waitFor(
      () => {
        const match = typeof pattern === "string" ? (this[stream].includes(pattern) ? [pattern] : null) : this[stream].match(pattern);
        if (!match && this.result) throw new Error(`${what}, but it ended first (${this.result.code ?? this.result.signal}):\n${this[stream]}`);
        return match;
      },
      () => `${what}; so far:\n${this[stream]}`,
      timeoutMs,
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL sarge (its whole process group when detached) and wait until it is gone. */
  async kill(): Promise<CliResult> {
    try {
      if (this.detached) process.kill(-this.pid, "SIGKILL");
      else this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    return this.done;
  }
}

let started = 0;
const live = new Set<SargeProcess>();

/** Start `sarge args...` and return the live process. */
export function spawnSarge(args: string[], options: CliOptions = {}): SargeProcess {
  return new SargeProcess(args, options);
}

/** Run `sarge args...` to completion, as a user would. */
export function runSarge(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnSarge(args, options).done;
}

/** How many sarge processes were started so far: a mark for liveSince. */
export function startedCount(): number {
  return started;
}

/** The sarge processes started since `mark` that are still running (test/support/setup.ts kills those a test left). */
export function liveSince(mark: number): SargeProcess[] {
  return [...live].filter((sarge) => sarge.serial >= mark);
}
