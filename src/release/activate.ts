import type { HomeContext } from "../home/context.js";
import { assertDeploysOpen } from "../home/deploy-freeze.js";
import { isUp, stopInstance } from "../instance/lifecycle.js";
import { activeInstance, readState, type InstanceRecord, type State } from "../instance/state.js";
import { SargeError } from "../util/errors.js";
import { assertProcessType } from "../instance/id.js";
import { step } from "./steps.js";
import { runRelease, type ReleasePlan, type ReleaseResult } from "./transaction.js";

export interface ActivateResult extends ReleaseResult {
  /** The staged (or kept) release whose instances are active now; `release` is this activation's own number. */
  activated: number;
}

/**
 * `sarge activate <release>`: the switch a `deploy --stage` stopped before.
 * The release's staged instances are checked for readiness again (one that
 * died meanwhile is started again first), switched in with zero downtime,
 * and the instances they replace are retired, as a deploy does. A kept
 * release is started and switched in the same way, as a rollback of every
 * process type it has. `switched` is told once the switch is done, before the retire;
 * `beforeSwitch` may hold the switch back, or cancel it.
 */
export async function activateRelease(
  ctx: HomeContext,
  release: number,
  only: string[] = [],
  force = false,
  { switched, beforeSwitch }: Pick<ReleasePlan, "switched" | "beforeSwitch"> = {},
): Promise<ActivateResult> {
  only.forEach(assertProcessType);
  // an activation puts new code in service as a deploy does, so the deploy lock (sarge lock) refuses it too
  assertDeploysOpen(ctx.paths, force);
  const procs = only.length > 0 ? [...new Set(only)] : [...new Set(releaseInstances(readState(ctx.paths), release).map((instance) => instance.proc))];
  const result = await runRelease(ctx, {
    kind: "activate",
    procs,
    command: `sarge activate ${[release, ...only].join(" ")}`,
    choose: (state) => {
      assertDeploysOpen(ctx.paths, force);
      const targets = chooseTargets(state, release, only);
      const from = targets.map((target) => activeInstance(state, target.proc)?.id ?? `no ${target.proc}`);
      return { instances: targets, detail: [`release ${release}`, `from ${from.join(", ")}`] };
    },
    prepare: (targets) => step("prepare", () => restartDead(ctx, targets)),
    switched,
    beforeSwitch,
  });
  return { ...result, activated: release };
}

function releaseInstances(state: State, release: number): InstanceRecord[] {
  return Object.values(state.instances).filter((instance) => instance.release === release);
}

/** The release's staged or kept instances (of the `only` process types, when given: each must be in the release). */
function chooseTargets(state: State, release: number, only: string[]): InstanceRecord[] {
  const all = releaseInstances(state, release);
  const members = all.filter((instance) => only.length === 0 || only.includes(instance.proc));
  const absent = only.filter((proc) => !members.some((instance) => instance.proc === proc));
  if (all.length > 0 && absent.length > 0) {
    throw new SargeError(`release ${release} has no ${absent.join(" or ")} instance (it has ${all.map((instance) => instance.id).join(", ")})`);
  }
  const targets = members.filter((instance) => instance.state === "staged" || instance.state === "kept");
  if (targets.length > 0) return targets;
  if (members.length > 0) throw new SargeError(`release ${release} is already active (${members.map((instance) => instance.id).join(", ")})`);
  throw new SargeError(`no staged or kept release ${release} to activate; ${describeReleases(state)}`, {
    detail: "Stage one with `sarge deploy --stage - <proc...>`; `sarge list` shows every instance and its release.",
  });
}

/** "staged: 7 (web-ab12cd), kept: 5 (web-…), 4 (…)", for a message that refuses a release number. */
export function describeReleases(state: State): string {
  const by = (wanted: InstanceRecord["state"]) => {
    const releases = new Map<number, string[]>();
    for (const instance of Object.values(state.instances).filter((candidate) => candidate.state === wanted)) {
      releases.set(instance.release, [...(releases.get(instance.release) ?? []), instance.id]);
    }
    const listed = [...releases].sort(([a], [b]) => b - a).map(([number, ids]) => `${number} (${ids.join(", ")})`);
    return `${wanted}: ${listed.join(", ") || "none"}`;
  };
  return `${by("staged")}; ${by("kept")}`;
}

/** A staged instance that is no longer running (it crashed, or was stopped) is stopped for good, so the start step starts it afresh. */
async function restartDead(ctx: HomeContext, targets: InstanceRecord[]): Promise<void> {
  const programs = new Map((await ctx.supervisor.status()).map((program) => [program.name, program]));
  for (const target of targets) {
    if (target.state === "kept") {
      ctx.reporter.line(`${target.id}: kept, starting it again (release ${target.release})`);
      continue;
    }
    const program = programs.get(target.id);
    if (isUp(program)) continue;
    const why = !program ? "unknown to the supervisor" : program.lastExit ? `${program.state}, last exit: ${program.lastExit}` : program.state;
    ctx.reporter.line(`${target.id}: staged but not running (${why}); starting it again`);
    if (program) await stopInstance(ctx, target.id);
  }
}
