import type { StopTarget } from "../util/process-group.js";

/**
 * What the deploy pipeline and the CLI know about a supervisor. Two backends
 * implement it: the builtin Node daemon and the real supervisord.
 */

export interface ProgramSpec {
  /** Instance id (`web-k3x9qa`), `haproxy`, or another `[A-Za-z0-9_-]+` name. */
  name: string;
  /** Run as `/bin/sh -c <command>`; callers put `exec` in front so the shell does not linger. */
  command: string;
  cwd: string;
  /** The whole environment of the program (nothing is inherited from the daemon). */
  env: Record<string, string>;
  /** stdout and stderr both go here, size-rotated. */
  logFile: string;
  /** Signal for a graceful stop; SIGTERM unless set (HAProxy wants SIGUSR1). */
  stopSignal?: NodeJS.Signals;
  /** Grace period between stopSignal and SIGKILL to the process group. */
  stopTimeoutMs?: number;
  /**
   * "group" (unless set): stopSignal to the whole process group. "main": to
   * the program's main process, and to what remains of its group once that
   * one is gone; SIGKILL to the group after the grace period either way.
   */
  stopTo?: StopTarget;
  /** Size rotation of logFile (etc/sarge.yaml `logs`); 10 MB × 5 unless set. */
  logs?: { maxBytes: number; keep: number };
}

export type ProgramState =
  | "starting" // spawned, not yet up for startSeconds
  | "running"
  | "backoff" // exited unexpectedly, waiting to be restarted
  | "stopping"
  | "stopped"; // not wanted running

export interface ProgramStatus {
  name: string;
  state: ProgramState;
  /** Whether the supervisor keeps it running (restarts it when it exits). */
  wanted: boolean;
  pid: number | null;
  /** ISO time the current process started, or null. */
  startedAt: string | null;
  /** How many times it was restarted after exiting on its own. */
  restarts: number;
  /** Exit code / signal of the last exit, e.g. "exit 1" or "signal SIGKILL". */
  lastExit: string | null;
  logFile: string;
}

export interface Supervisor {
  /** Register a program (replacing a stopped one of the same name) and start it. */
  start(spec: ProgramSpec): Promise<ProgramStatus>;
  /** Start an already registered program again. */
  startExisting(name: string): Promise<ProgramStatus>;
  /** Graceful stop by process group; resolves once every process of the group is gone. */
  stop(name: string): Promise<ProgramStatus>;
  /** Stop if needed and forget the program; nothing to do for an unknown name. */
  remove(name: string): Promise<void>;
  status(): Promise<ProgramStatus[]>;
  /** Close the connection to the supervisor (not the supervisor itself). */
  close(): Promise<void>;
}
