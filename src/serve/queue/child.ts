import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import type { HomePaths } from "../../home/paths.js";
import { homeSarge } from "../../home/pinned-sarge.js";
import { processStartTime } from "../../util/process-alive.js";

export interface DeployChild {
  pid: number;
  pidStart: string | null;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

/**
 * `sarge deploy - <procs> --release <id>` as a child process (the home's own
 * sarge, bin/sarge), the archive on
 * its stdin and its output appended to the release's log file (a file, not a
 * pipe, so the deploy outlives a server killed under it, and a restarted
 * server reads on). SARGE_ACTOR makes the token's name history's user.
 */
export function startDeployChild(options: {
  paths: HomePaths;
  id: number;
  procs: string[];
  who: string;
  force: boolean;
  archive: Readable;
  logFile: string;
}): DeployChild {
  mkdirSync(dirname(options.logFile), { recursive: true, mode: 0o700 });
  const log = openSync(options.logFile, "a", 0o600);
  const args = ["deploy", "-", ...options.procs, "--release", String(options.id)];
  let child: ChildProcess;
  try {
    child = spawn(homeSarge(options.paths), options.force ? [...args, "--force"] : args, {
      stdio: ["pipe", log, log],
      env: { ...process.env, SARGE_ACTOR: options.who },
    });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(70));
  });
  // a deploy that stops reading (refused at unpack) ends the upload: the rest of the body is drained
  child.stdin!.once("error", () => options.archive.resume());
  options.archive.once("error", () => child.stdin!.destroy());
  options.archive.pipe(child.stdin!);
  return {
    pid: child.pid ?? 0,
    pidStart: child.pid ? processStartTime(child.pid) : null,
    exited,
    signal: (signal) => void child.kill(signal),
  };
}

/** The last `sarge: …` line of a release's log: why it failed, as the CLI said it. */
export function lastSargeError(logFile: string): string | null {
  try {
    const lines = readFileSync(logFile, "utf8").split("\n");
    const line = lines.reverse().find((candidate) => candidate.startsWith("sarge: "));
    return line ? line.slice("sarge: ".length) : null;
  } catch {
    return null;
  }
}
