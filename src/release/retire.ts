import { existsSync, readdirSync } from "node:fs";
import type { HomeContext } from "../home/context.js";
import { destroyInstanceFiles, stopInstance } from "../instance/lifecycle.js";
import { collectEnvironments } from "../python-env/index.js";
import { writeState, type InstanceRecord, type State } from "../instance/state.js";
import { isReceiving } from "./incoming.js";
import type { Switched } from "./switch.js";
import { compareText } from "../util/compare-text.js";

/**
 * After a switch (or a stage): stop the replaced instances gracefully (they
 * stay on disk for rollback), then prune.
 */
export async function retire(ctx: HomeContext, state: State, switched: Switched[], released: InstanceRecord[]): Promise<void> {
  for (const { previous } of switched) {
    if (!previous) continue;
    await stopInstance(ctx, previous.id);
    ctx.reporter.line(`${previous.id}: stopped, kept for rollback`);
  }
  await prune(ctx, state, released);
}

/**
 * Destroy what is no longer wanted: staged instances another release
 * superseded (`released`, the instances a release just made active or staged,
 * supersede every other staged instance of their process types), kept
 * instances beyond keep_releases, and the Python environments nothing links
 * to any more.
 */
export async function prune(ctx: HomeContext, state: State, released: InstanceRecord[]): Promise<void> {
  const releasedIds = new Set(released.map((instance) => instance.id));
  const superseded = Object.values(state.instances).filter(
    (instance) => instance.state === "staged" && !releasedIds.has(instance.id) && released.some((other) => other.proc === instance.proc),
  );
  await destroyInstances(ctx, state, superseded);
  for (const instance of superseded) {
    const by = released.find((other) => other.proc === instance.proc)!;
    ctx.reporter.line(`${instance.id}: destroyed (staged by release ${instance.release}, superseded by ${by.id} of release ${by.release})`);
  }
  const keptByProc = new Map<string, InstanceRecord[]>();
  for (const instance of Object.values(state.instances)) {
    if (instance.state !== "kept") continue;
    keptByProc.set(instance.proc, [...(keptByProc.get(instance.proc) ?? []), instance]);
  }
  for (const kept of keptByProc.values()) {
    const newestFirst = kept.sort((a, b) => compareText(b.retiredAt ?? "", a.retiredAt ?? "") || b.release - a.release);
    const excess = newestFirst.slice(ctx.config.keepReleases);
    await destroyInstances(ctx, state, excess);
    for (const instance of excess) ctx.reporter.line(`${instance.id}: destroyed (beyond keep_releases: ${ctx.config.keepReleases})`);
  }
  await collectEnvironments(ctx.paths, liveEnvironmentKeys(state));
}

export function liveEnvironmentKeys(state: State): Set<string> {
  return new Set(Object.values(state.instances).flatMap((instance) => (instance.envKey ? [instance.envKey] : [])));
}

/** Remove instances entirely (program, folder, logs) and drop them from state. */
export async function destroyInstances(ctx: HomeContext, state: State, instances: InstanceRecord[]): Promise<void> {
  for (const instance of instances) {
    await destroyInstanceFiles(ctx, instance.id);
    delete state.instances[instance.id];
    writeState(ctx.paths, state);
  }
}

/** Folders under deploy/ that no instance in state owns and no live deploy is receiving into (what a killed deploy left). */
export function strayDeployFolders(ctx: HomeContext, state: State): string[] {
  if (!existsSync(ctx.paths.deploy)) return [];
  return readdirSync(ctx.paths.deploy).filter((name) => !Object.hasOwn(state.instances, name) && !isReceiving(name));
}
