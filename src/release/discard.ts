import type { HomeContext } from "../home/context.js";
import { readState } from "../instance/state.js";
import { collectEnvironments } from "../python-env/index.js";
import { SargeError } from "../util/errors.js";
import { describeReleases } from "./activate.js";
import { recoverInterrupted } from "./recovery.js";
import { destroyInstances, liveEnvironmentKeys } from "./retire.js";
import { withHomeLock } from "./transaction.js";

export interface DiscardResult {
  release: number;
  instances: string[];
}

/** `sarge discard <release>`: stop and remove a staged release's instances (program, folder, logs) and the environments only they used. */
export async function discardRelease(ctx: HomeContext, release: number): Promise<DiscardResult> {
  return withHomeLock(ctx, `sarge discard ${release}`, async () => {
    // a killed activate may have left HAProxy routed to a staged instance: put that right before removing anything
    await recoverInterrupted(ctx);
    const state = readState(ctx.paths);
    const members = Object.values(state.instances).filter((instance) => instance.release === release);
    const active = members.filter((instance) => instance.state === "active");
    if (active.length > 0) {
      throw new SargeError(`release ${release} is active (${active.map((instance) => instance.id).join(", ")}): only a staged release can be discarded`);
    }
    const staged = members.filter((instance) => instance.state === "staged");
    if (staged.length === 0) {
      throw new SargeError(`no staged release ${release} to discard; ${describeReleases(state)}`, {
        detail: members.length > 0 ? `Its instances are ${members[0]!.state}; \`sarge destroy <instance>\` removes a kept one.` : undefined,
      });
    }
    await destroyInstances(ctx, state, staged);
    await collectEnvironments(ctx.paths, liveEnvironmentKeys(state));
    for (const instance of staged) ctx.reporter.line(`${instance.id}: stopped and removed`);
    return { release, instances: staged.map((instance) => instance.id) };
  });
}
