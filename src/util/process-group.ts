import { readdirSync } from "node:fs";
import { SargeError } from "./errors.js";
import { pollUntil, stopPolls } from "./poll.js";
import { runningProcStat } from "./proc-stat.js";

/** Running (not zombie) pids whose process group is `pgid`, ascending. */
export function groupMembers(pgid: number): number[] {
  if (!(pgid > 1) || !groupHasProcesses(pgid)) return [];
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && runningProcStat(Number(entry))?.pgrp === pgid)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Whether any running process of the group remains. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** kill(-pgid, 0): cheap, but it also counts zombies that are not reaped yet. */
function groupHasProcesses(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sends a signal to every process of the group; nothing to do when it is empty. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ESRCH") throw new SargeError(`cannot send ${signal} to process group ${pgid}: ${code ?? String(error)}`);
  }
}

/** Who a stop signal goes to: the group's leader (the program's main process) or every process of the group. */
export type StopTarget = "main" | "group";

/**
 * Stop a whole process group: `signal` (null when the caller already sent
 * it) to the group, or with `to: "main"` to its leader only and, once the
 * leader is gone, to whatever of the group outlived it (a shell that did not
 * exec its command dies of it without passing it on); then SIGKILL to the
 * group once `graceMs` has passed, and wait until no process of the group
 * remains, so a port held by a forked child is free afterwards — or until
 * `killWaitMs` more passed (see groupMembers for what is left).
 */
export async function terminateGroup(
  pgid: number,
  signal: NodeJS.Signals | null,
  graceMs: number,
  killWaitMs = Number.POSITIVE_INFINITY,
  to: StopTarget = "group",
): Promise<void> {
  // with to: "main", the rest of the group gets the signal once the leader is gone
  let restPending = false;
  if (signal !== null) {
    if (to === "main" && signalLeader(pgid, signal)) restPending = true;
    else signalGroup(pgid, signal);
  }
  const killAt = Date.now() + graceMs;
  await pollUntil(
    () => {
      if (!groupAlive(pgid)) return true;
      if (Date.now() >= killAt) {
        // Repeated on every poll so that a child forked after the first SIGKILL dies too.
        signalGroup(pgid, "SIGKILL");
      } else if (restPending && !leaderRunning(pgid)) {
        restPending = false;
        signalGroup(pgid, signal!);
      }
      return false;
    },
    { timeoutMs: graceMs + killWaitMs, intervalMs: stopPolls },
  );
}

/** The leader's pid names the group, so while any member runs the kernel has not given it to another process. */
function leaderRunning(pgid: number): boolean {
  return runningProcStat(pgid)?.pgrp === pgid;
}

/** Signals the group's leader while it runs; false when it is gone. */
function signalLeader(pgid: number, signal: NodeJS.Signals): boolean {
  if (!leaderRunning(pgid)) return false;
  try {
    process.kill(pgid, signal);
    return true;
  } catch {
    return false;
  }
}
