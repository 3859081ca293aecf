import { rmSync } from "node:fs";
import { join } from "node:path";
import type { HomeContext } from "./context.js";
import { destroyInstances, strayDeployFolders } from "./retire.js";
import { readState, writeState } from "./state.js";

/**
 * Called with the home lock held, before any change: whatever a killed deploy
 * left half-made is removed, and instances it had already replaced but not
 * stopped are stopped. The version that serves is never touched.
 */
export async function recoverInterrupted(ctx: HomeContext): Promise<void> {
  const state = readState(ctx.paths);
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
