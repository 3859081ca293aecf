import { existsSync, readdirSync } from "node:fs";
import { HAPROXY_PROGRAM } from "../haproxy/types.js";
import { isSameProcessAlive } from "../util/process-alive.js";
import type { ProgramStatus } from "../supervise/supervisor.js";
import type { HomeContext } from "../home/context.js";
import { isAbandonedIncoming } from "./incoming.js";
import { acquireHomeLock, readHolder } from "./lock.js";
import { readState } from "../instance/state.js";

/**
 * For commands that only look (list, status): if a dead deploy left its mark
 * and nobody holds the lock, clean up now and say so; never wait for a live
 * deploy. Returns what the supervisor runs, as of after any cleanup.
 */
export async function recoverIfIdle(ctx: HomeContext, command: string): Promise<ProgramStatus[]> {
  const programs = await ctx.supervisor.status();
  if (!needsRecovery(ctx, programs)) return programs;
  const quiet = { waiting: () => undefined, takeover: () => undefined };
  const lock = await acquireHomeLock(ctx.paths, command, quiet, { timeoutMs: 0 }).catch(() => null);
  if (!lock) return programs;
  try {
    // loaded only here: a look at a healthy home must not pay for the recovery modules
    const { recoverInterrupted } = await import("./recovery.js");
    await recoverInterrupted(ctx);
  } finally {
    lock.release();
  }
  return ctx.supervisor.status();
}

/** A dead deploy's leftovers (half-made instances, an abandoned upload) or its lock, or active or staged instances (or HAProxy) the supervisor does not run. */
function needsRecovery(ctx: HomeContext, programs: ProgramStatus[]): boolean {
  // A command killed while it held the lock may have stopped anywhere (even between its switch and retiring the old instance).
  const holder = readHolder(ctx.paths.deployLock);
  if (holder && !isSameProcessAlive(holder.pid, holder.startTime)) return true;
  const instances = Object.values(readState(ctx.paths).instances);
  if (instances.some((instance) => instance.state === "deploying")) return true;
  if (existsSync(ctx.paths.deploy) && readdirSync(ctx.paths.deploy).some(isAbandonedIncoming)) return true;
  const known = new Set(programs.map((program) => program.name));
  const active = instances.filter((instance) => instance.state === "active");
  const running = instances.filter((instance) => instance.state === "active" || instance.state === "staged");
  return running.some((instance) => !known.has(instance.id)) || (active.some((instance) => ctx.router.routes(instance.proc)) && !known.has(HAPROXY_PROGRAM));
}
