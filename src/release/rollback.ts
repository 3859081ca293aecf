import { SargeError } from "../util/errors.js";
import type { HomeContext } from "../home/context.js";
import { announceOutcome } from "./announce.js";
import { withHomeLock } from "./home-lock.js";
import { assertProcessType } from "../instance/id.js";
import { recoverInterrupted } from "./recovery.js";
import { finishedRelease, pendingRelease } from "./history.js";
import { launch, retireAfterSwitch } from "./transaction.js";
import { activeInstance, instancesOf, readState, writeState, type InstanceRecord } from "../instance/state.js";
import { step } from "./steps.js";
import { switchAll, undoSwitches, type Switched } from "./switch.js";

export interface RollbackResult {
  release: number;
  proc: string;
  from: string | null;
  to: string;
  switchMs: number;
  durationMs: number;
}

/**
 * Make a kept instance active again: start it from its folder, environment
 * and config as they are (nothing unpacked or installed), wait until it is
 * ready, switch as a deploy does, and retire the instance it replaces.
 */
export async function rollback(ctx: HomeContext, proc: string, to?: string): Promise<RollbackResult> {
  assertProcessType(proc);
  const started = new Date();
  return withHomeLock(ctx, `sarge rollback ${proc}`, async () => {
    await recoverInterrupted(ctx);
    const state = readState(ctx.paths);
    const current = activeInstance(state, proc);
    const target = chooseTarget(instancesOf(state, proc), proc, current, to);
    const release = ++state.lastRelease;
    const detail = [`from ${current?.id ?? "nothing"}`, `to ${target.id} (release ${target.release})`];
    const pending = { ...pendingRelease("rollback", release, [proc], [target.id], started, detail), commit: target.commit };
    state.pendingRelease = pending;
    writeState(ctx.paths, state);
    const switched: Switched[] = [];
    const record = (outcome: "success" | "failed", error?: string) =>
      announceOutcome(ctx, state, finishedRelease(pending, outcome, error), Promise.resolve());
    let switchMs: number;
    try {
      ctx.reporter.line(`rolling ${proc} back to ${target.id} (release ${target.release})`);
      await launch(ctx, state, [target]);
      switchMs = (await step("switch", () => switchAll(ctx, state, [target], switched)))[proc] ?? 0;
    } catch (error) {
      const leftForRecovery = await undoSwitches(ctx, state, switched);
      // the target was a kept instance: it goes back to being kept (stopped), unless recovery must route back first
      if (target.state !== "active" && !leftForRecovery.includes(target)) await ctx.supervisor.stop(target.id).catch(() => undefined);
      await record("failed", (error as Error).message);
      throw error;
    }
    await retireAfterSwitch(ctx, state, switched);
    await record("success");
    const differing = differingKeys(target.configEnv, ctx.config.env);
    if (differing.length > 0) {
      ctx.reporter.line(
        `note: ${target.id} runs with the env it was started with; etc/sarge.yaml differs in ${differing.join(", ")} and the next deploy or config change uses etc/sarge.yaml`,
      );
    }
    return { release, proc, from: current?.id ?? null, to: target.id, switchMs, durationMs: Date.now() - started.getTime() };
  });
}

function chooseTarget(instances: InstanceRecord[], proc: string, current: InstanceRecord | undefined, to: string | undefined): InstanceRecord {
  const kept = instances.filter((instance) => instance.state === "kept");
  if (to !== undefined) {
    const chosen = instances.find((instance) => instance.id === to);
    if (!chosen) throw new SargeError(`no ${proc} instance "${to}" to roll back to; kept: ${kept.map((i) => i.id).join(", ") || "none"}`);
    if (chosen.state === "active") throw new SargeError(`${to} is already the active ${proc} instance`);
    return chosen;
  }
  const previous = kept.sort((a, b) => (b.activatedAt ?? "").localeCompare(a.activatedAt ?? "") || b.release - a.release)[0];
  if (!previous) {
    throw new SargeError(`no kept ${proc} instance to roll back to${current ? ` (${current.id} is active)` : ""}`, {
      detail: "Kept instances are the last keep_releases versions that were replaced; see `sarge list`.",
    });
  }
  return previous;
}

function differingKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => a[key] !== b[key]).sort();
}
