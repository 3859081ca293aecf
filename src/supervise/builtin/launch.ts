import { spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { SargeError } from "../../util/errors.js";
import { pollUntil } from "../../util/poll.js";
import type { ProgramSpec } from "../supervisor.js";
import { identify, readStartTime } from "./process-identity.js";

/** One process of a program: its pid is also its process group id. */
export interface Run {
  pid: number;
  /** /proc start time, to recognise the process after a daemon restart. */
  startTime: string;
  /** ISO time it started. */
  startedAt: string;
  /** Resolves with how it ended: "exit 1", "signal SIGKILL", ... */
  exited: Promise<string>;
}

/** How often an adopted process (not our child, so no exit event) is checked. */
const ADOPTED_POLL_MS = 500;

/**
 * Starts `/bin/sh -c <command>` in a new session (its own process group) with
 * exactly spec.env, stdin from /dev/null, and stdout+stderr appended straight
 * to the log file: no pipe through the daemon, so the program outlives a dead
 * daemon and never gets SIGPIPE.
 */
export async function launch(spec: ProgramSpec): Promise<Run> {
  if (!isDirectory(spec.cwd)) throw new SargeError(`cannot start ${spec.name}: working directory ${spec.cwd} does not exist`);
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
  let child;
  try {
    child = spawn("/bin/sh", ["-c", spec.command], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
  // Also absorbs any later 'error' event, which would otherwise crash the daemon.
  const failed = new Promise<Error>((resolve) => child.once("error", resolve));
  if (child.pid === undefined) throw new SargeError(`cannot start ${spec.name}: ${(await failed).message}`);
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(describeExit(code, signal))));
  return { pid: child.pid, startTime: readStartTime(child.pid), startedAt: new Date().toISOString(), exited };
}

/** Watches a process left running by a previous daemon; it is not our child, so poll. */
export function adopt(pid: number, startTime: string, startedAt: string): Run {
  const gone = () => identify(pid, startTime) !== "alive";
  const exited = pollUntil(gone, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: ADOPTED_POLL_MS }).then(() => "unknown (adopted process)");
  return { pid, startTime, startedAt, exited };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return code !== null ? `exit ${code}` : `signal ${signal}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
