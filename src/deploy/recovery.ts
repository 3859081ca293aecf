import { rmSync } from "node:fs";
import { join } from "node:path";
import type { HomeContext } from "./context.js";
import { acquireHomeLock } from "./lock.js";
import { destroyInstances, strayDeployFolders } from "./retire.js";
import { readState, writeState } from "./state.js";

/**
 * Called with the home lock held, before any change. Whatever a killed deploy
 * left is put right, in an order that never interrupts the serving version:
 * first HAProxy is routed back to what state says is active, then half-made
 * instances are removed, then instances it had replaced but not yet stopped
 * are stopped.
 */
export async function recoverInterrupted(ctx: HomeContext): Promise<void> {
  const state = readState(ctx.paths);
  for (const proc of await ctx.router.reconcile(state)) {
    ctx.reporter.line(`${proc}: routed back to its active instance after an interrupted deploy`);
  }
  const leftovers = Object.values(state.instances).filter((instance) => instance.state === "deploying");
  for (const instance of leftovers) ctx.reporter.line(`cleaning up ${instance.id}, left half-made by an interrupted deploy`);
  await destroyInstances(ctx, state, leftovers);
  for (const name of strayDeployFolders(ctx, state)) {
    ctx.reporter.line(`removing deploy/${name}, which no instance owns`);
    rmSync(join(ctx.paths.deploy, name), { recursive: true, force: true });
  }
  const running = new Set((await ctx.supervisor.status()).filter((program) => program.wanted).map((program) => program.name));
  for (const instance of Object.values(state.instances)) {
    if (instance.state === "kept" && running.has(instance.id)) {
      ctx.reporter.line(`stopping ${instance.id}, replaced by an interrupted deploy but still running`);
      await ctx.supervisor.stop(instance.id);
    }
  }
  writeState(ctx.paths, state);
}

/**
 * For commands that only look (list, status): if a dead deploy left its mark
 * and nobody holds the lock, clean up now and say so; never wait for a live
 * deploy.
 */
export async function recoverIfIdle(ctx: HomeContext, command: string): Promise<void> {
  const state = readState(ctx.paths);
  if (!Object.values(state.instances).some((instance) => instance.state === "deploying")) return;
  const quiet = { waiting: () => undefined, takeover: () => undefined };
  const lock = await acquireHomeLock(ctx.paths, command, quiet, { timeoutMs: 0 }).catch(() => null);
  if (!lock) return;
  try {
    await recoverInterrupted(ctx);
  } finally {
    lock.release();
  }
}
