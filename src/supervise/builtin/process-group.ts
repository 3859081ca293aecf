import { readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { SargeError } from "../../util/errors.js";
import { readProcStat, type ProcStat } from "../../util/process-alive.js";

/** How often a stop re-checks whether the group is empty. */
const POLL_MS = 25;

function running(stat: ProcStat): boolean {
  return stat.state !== "Z" && stat.state !== "X";
}

/**
 * The kernel's start time of a process (clock ticks since boot). With the pid,
 * it identifies one process across a daemon restart even if the pid is reused.
 */
export function readStartTime(pid: number): string {
  const stat = readProcStat(pid);
  if (!stat) throw new SargeError(`process ${pid} vanished right after it was started`);
  return stat.startTime;
}

/**
 * - alive: that very process still runs;
 * - gone: no process has that pid (or it is a zombie): its group may still have members;
 * - reused: another process got the pid, so the old group is necessarily empty
 *   (the kernel does not hand out a pid still used as a group id).
 */
export type Liveness = "alive" | "gone" | "reused";

export function identify(pid: number, startTime: string): Liveness {
  const stat = readProcStat(pid);
  if (!stat || !running(stat)) return "gone";
  return stat.startTime === startTime ? "alive" : "reused";
}

/** Whether any non-zombie process of the group remains. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if (errorCode(error) === "ESRCH") return false;
    if (errorCode(error) === "EPERM") return true;
    throw error;
  }
  // kill() also succeeds for zombies that init has not reaped yet; only running members count.
  return readdirSync("/proc").some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = readProcStat(Number(entry));
    return stat !== null && stat.pgrp === pgid && running(stat);
  });
}

/** Sends a signal to every process of the group; false when the group is empty. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (errorCode(error) === "ESRCH") return false;
    throw new SargeError(`cannot send ${signal} to process group ${pgid}: ${errorCode(error) ?? String(error)}`);
  }
}

/**
 * Graceful stop of a whole process group: `signal`, then SIGKILL once `graceMs`
 * has passed. Resolves only when no process of the group remains, so a port
 * held by a forked child is free afterwards.
 */
export async function terminateGroup(pgid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, signal)) return;
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid)) {
    // Repeated on every poll so that a child forked after the first SIGKILL dies too.
    if (Date.now() >= deadline) signalGroup(pgid, "SIGKILL");
    await sleep(POLL_MS);
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
