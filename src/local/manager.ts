import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Printer } from "./printer.js";

/** Seconds between the first process stopping and SIGKILL for the rest (honcho's KILL_WAIT). */
export const KILL_WAIT_MS = 5000;

/**
 * Runs `/bin/sh -c <command>` with stderr on the stdout pipe. Node cannot hand
 * a child one pipe for both, so a first shell redirects and then execs the
 * real one: same pid, same argv (`/bin/sh -c <command>`), `$0` is `/bin/sh`.
 */
const SHELL = "/bin/sh";
const MERGE_STDERR = 'exec 2>&1; exec /bin/sh -c "$1"';

export interface ManagedProcess {
  name: string;
  command: string;
  env: NodeJS.ProcessEnv;
  quiet: boolean;
  colour: string | undefined;
}

interface Running {
  spec: ManagedProcess;
  child: ChildProcess;
  pid: number;
  /** Set once the process has exited and its output pipe is closed. */
  returncode?: number;
}

const SIGNAL_EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * honcho's Manager (docs/local.md, `start`): starts every process in its own session,
 * prints their output, and when the first one stops, sends SIGTERM to every
 * other process group, then SIGKILL after KILL_WAIT. SIGINT/SIGTERM to sarge
 * print a line, set the exit code to 130/143 and send SIGTERM the same way.
 */
export class Manager {
  private readonly processes: Running[] = [];
  private returncode: number | undefined;
  private terminating = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly printer: Printer,
    private readonly killWaitMs = KILL_WAIT_MS,
  ) {}

  /** Start everything and resolve with the exit code once all processes have stopped. */
  run(specs: ManagedProcess[]): Promise<number> {
    if (specs.length === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const onSignal = (signal: "SIGINT" | "SIGTERM"): void => {
        this.printer.system(`${signal} received`);
        this.returncode = SIGNAL_EXIT[signal];
        this.terminate();
      };
      const onInt = (): void => onSignal("SIGINT");
      const onTerm = (): void => onSignal("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);

      const finish = (): void => {
        if (!this.processes.every((p) => p.returncode !== undefined)) return;
        if (this.killTimer) clearTimeout(this.killTimer);
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        resolve(exitStatus(this.returncode ?? 0));
      };

      for (const spec of specs) this.start(spec, finish);
    });
  }

  private start(spec: ManagedProcess, onStopped: () => void): void {
    const child = spawn(SHELL, ["-c", MERGE_STDERR, SHELL, spec.command], {
      env: spec.env,
      stdio: ["inherit", "pipe", "inherit"],
      detached: true,
    });
    const running: Running = { spec, child, pid: child.pid ?? -1 };
    this.processes.push(running);
    this.printer.system(`${spec.name} started (pid=${running.pid})`);

    // Like Python's readline on the pipe: a line is everything up to and
    // including "\n"; a last piece without one is printed at EOF.
    let pending: Buffer[] = [];
    const decoder = (bytes: Buffer): string => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    const emit = (bytes: Buffer): void => {
      if (!spec.quiet) this.printer.write(spec.name, decoder(bytes), new Date(), spec.colour);
    };
    child.stdout!.on("data", (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl + 1);
        emit(pending.length ? Buffer.concat([...pending, piece]) : piece);
        pending = [];
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    });
    child.stdout!.on("end", () => {
      if (pending.length) emit(Buffer.concat(pending));
      pending = [];
    });
    child.on("error", (error) => {
      this.printer.system(`${spec.name} could not be started: ${error.message}`);
    });
    child.on("close", (code, signal) => {
      const rc = signal ? -(constants.signals[signal] ?? 0) : (code ?? 0);
      running.returncode = rc;
      this.printer.system(`${spec.name} stopped (rc=${rc})`);
      if (this.returncode === undefined) this.returncode = rc;
      if (!this.killTimer) {
        this.terminate();
        this.killTimer = setTimeout(() => this.killAll("SIGKILL"), this.killWaitMs);
      }
      onStopped();
    });
  }

  /** SIGTERM to every process group still running, once. */
  terminate(): void {
    if (this.terminating) return;
    this.terminating = true;
    this.killAll("SIGTERM");
  }

  private killAll(signal: "SIGTERM" | "SIGKILL"): void {
    for (const p of this.processes) {
      if (p.returncode !== undefined) continue;
      this.printer.system(`sending ${signal} to ${p.spec.name} (pid ${p.pid})`);
      try {
        process.kill(-p.pid, signal);
      } catch {
        // ESRCH / EPERM: already gone, as honcho ignores them
      }
    }
  }
}

/**
 * The exit status for a return code. A negative one means the shell was
 * killed by signal N; honcho passes it to sys.exit (256−N), sarge exits 128+N
 * like a shell does (a deliberate difference).
 */
export function exitStatus(returncode: number): number {
  return returncode < 0 ? 128 - returncode : returncode;
}
