import { SargeError } from "../util/errors.js";
import type { HomeContext } from "../home/context.js";
import { assertProcessType } from "../instance/id.js";
import { activeInstance, instancesOf, type InstanceRecord } from "../instance/state.js";
import { runRelease } from "./transaction.js";
import { compareText } from "../util/compare-text.js";

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
  let chosen: { from: string | null; target: InstanceRecord } | undefined;
  const result = await runRelease(ctx, {
    kind: "rollback",
    procs: [proc],
    command: `sarge rollback ${proc}`,
    choose: (state) => {
      const current = activeInstance(state, proc);
      const target = chooseTarget(instancesOf(state, proc), proc, current, to);
      chosen = { from: current?.id ?? null, target };
      return { instances: [target], detail: [`from ${current?.id ?? "nothing"}`, `to ${target.id} (release ${target.release})`] };
    },
    prepare: async ([target]) => ctx.reporter.line(`rolling ${proc} back to ${target!.id} (release ${target!.release})`),
  });
  const { from, target } = chosen!;
  const differing = differingKeys(target.configEnv, ctx.config.env);
  if (differing.length > 0) {
    ctx.reporter.line(
      `note: ${target.id} runs with the env it was started with; etc/sarge.yaml differs in ${differing.join(", ")} and the next deploy or config change uses etc/sarge.yaml`,
    );
  }
  return { release: result.release, proc, from, to: target.id, switchMs: result.switchMs[proc] ?? 0, durationMs: result.durationMs };
}

function chooseTarget(instances: InstanceRecord[], proc: string, current: InstanceRecord | undefined, to: string | undefined): InstanceRecord {
  const kept = instances.filter((instance) => instance.state === "kept");
  if (to !== undefined) {
    const chosen = instances.find((instance) => instance.id === to);
    if (!chosen) throw new SargeError(`no ${proc} instance "${to}" to roll back to; kept: ${kept.map((i) => i.id).join(", ") || "none"}`);
    if (chosen.state === "active") throw new SargeError(`${to} is already the active ${proc} instance`);
    return chosen;
  }
  const previous = kept.sort((a, b) => compareText(b.activatedAt ?? "", a.activatedAt ?? "") || b.release - a.release)[0];
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
