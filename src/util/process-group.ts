import { readdirSync } from "node:fs";
import { SargeError } from "./errors.js";
import { pollUntil } from "./poll.js";
import { runningProcStat } from "./proc-stat.js";

/** How often a stop re-checks whether the group is empty. */
const POLL_MS = 20;

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

/**
 * Stop a whole process group: `signal` (null when the caller already sent
 * it), then SIGKILL once `graceMs` has passed, and wait until no process of
 * the group remains, so a port held by a forked child is free afterwards —
 * or until `killWaitMs` more passed (see groupMembers for what is left).
 */
export async function terminateGroup(pgid: number, signal: NodeJS.Signals | null, graceMs: number, killWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
  if (signal !== null) signalGroup(pgid, signal);
  const killAt = Date.now() + graceMs;
  await pollUntil(
    () => {
      if (!groupAlive(pgid)) return true;
      // Repeated on every poll so that a child forked after the first SIGKILL dies too.
      if (Date.now() >= killAt) signalGroup(pgid, "SIGKILL");
      return false;
    },
    { timeoutMs: graceMs + killWaitMs, intervalMs: POLL_MS },
  );
}
