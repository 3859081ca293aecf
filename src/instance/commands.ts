import { SargeError } from "../util/errors.js";
import type { HomeContext } from "../home/context.js";
import { withHomeLock } from "../release/transaction.js";
import { programSpec, stopInstance } from "./lifecycle.js";
import { destroyInstances } from "../release/retire.js";
import { readState, writeState, type InstanceRecord, type State } from "./state.js";
import { resolveTarget } from "./target.js";

/** `sarge start|stop|restart|destroy <instance>`: one instance's lifecycle, under the home lock. */
export type LifecycleAction = "start" | "stop" | "restart" | "destroy";

export async function changeInstance(ctx: HomeContext, action: LifecycleAction, id: string, options: { force?: boolean } = {}): Promise<string> {
  return withHomeLock(ctx, `sarge ${action} ${id}`, async () => {
    const state = readState(ctx.paths);
    const instance = resolveTarget(state, id, { allowProc: false });
    switch (action) {
      case "start": {
        const program = (await ctx.supervisor.status()).find((candidate) => candidate.name === instance.id);
        if (program?.wanted && program.state !== "backoff") return `${instance.id}: already ${program.state} on port ${instance.port}`;
        // One crash-looping (waiting in backoff) is started at once; a new spec is given only to a stopped one.
        if (program?.wanted) await ctx.supervisor.startExisting(instance.id);
        else await ctx.supervisor.start(programSpec(ctx, instance));
        markStartedByHand(ctx, state, instance, true);
        const routeWith = instance.state === "staged" ? `sarge activate ${instance.release}` : "sarge rollback";
        return `${instance.id}: started on port ${instance.port}${instance.state === "active" ? "" : ` (not routed: use \`${routeWith}\` to route to it)`}`;
      }
      case "stop":
        await stopInstance(ctx, instance.id);
        markStartedByHand(ctx, state, instance, false);
        return `${instance.id}: stopped${instance.state === "active" && ctx.router.routes(instance.proc) ? ` — ${instance.proc} has no running instance behind its stable address now` : ""}`;
      case "restart":
        await stopInstance(ctx, instance.id);
        await ctx.supervisor.start(programSpec(ctx, instance));
        markStartedByHand(ctx, state, instance, true);
        return `${instance.id}: restarted`;
      case "destroy":
        if (instance.state === "active" && !options.force) {
          throw new SargeError(`${instance.id} is the active ${instance.proc} instance; deploy or roll back first, or pass --force`);
        }
        await destroyInstances(ctx, state, [instance]);
        return `${instance.id}: destroyed (program, folder and logs)`;
    }
  });
}

/** A kept instance the operator runs is theirs: recovery must not take it for one an interrupted deploy left running. */
function markStartedByHand(ctx: HomeContext, state: State, instance: InstanceRecord, running: boolean): void {
  if (running && instance.state === "kept") instance.startedByHand = true;
  else if (instance.startedByHand) delete instance.startedByHand;
  else return;
  writeState(ctx.paths, state);
}
