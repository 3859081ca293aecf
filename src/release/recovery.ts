import { rmSync } from "node:fs";
import { join } from "node:path";
import type { HomeContext } from "../home/context.js";
import { isUp, startInstance, stopInstance } from "../instance/lifecycle.js";
import { neverOverlaps, startAgain } from "./overlap.js";
import { destroyInstances, strayDeployFolders } from "./retire.js";
import { appendHistory, finishedRelease, readHistory } from "./history.js";
import { instancesOf, readState, writeState, writeStateIfChanged, type State } from "../instance/state.js";
import { stopStrayProcesses, strayProcesses } from "../instance/strays.js";
import { unswitchState } from "./switch.js";

/**
 * Called with the home lock held, before any change. Whatever a killed deploy
 * left is put right, in an order that never interrupts the serving version:
 * first HAProxy is routed back to what state says is active, then half-made
 * instances are removed, then instances it had replaced but not yet stopped
 * are stopped.
 */
export async function recoverInterrupted(ctx: HomeContext): Promise<void> {
  const state = readState(ctx.paths);
  // read before the instances that know it are removed
  const pendingCommit = state.pendingRelease?.commit ?? state.pendingRelease?.instances.map((id) => state.instances[id]?.commit).find(Boolean) ?? null;
  undoPartialReleases(ctx, state);
  // the supervisor is asked once: what recovery itself changes below is known without asking again
  const programs = await ctx.supervisor.status();
  const known = new Set(programs.map((program) => program.name));
  const startedNow = new Set<string>();
  for (const instance of Object.values(state.instances)) {
    if ((instance.state !== "active" && instance.state !== "staged") || known.has(instance.id)) continue;
    ctx.reporter.line(`starting ${instance.id}: it is ${instance.state} but its supervisor does not know it (a new or switched supervisor)`);
    await startInstance(ctx, instance);
    startedNow.add(instance.id);
  }
  await startStoppedForSuccessors(ctx, state, new Set([...programs.filter(isUp).map((program) => program.name), ...startedNow]));
  const { started, routedBack } = await ctx.router.reconcile(state, programs);
  if (started) ctx.reporter.line("started HAProxy with the routes of the active instances");
  for (const proc of routedBack) ctx.reporter.line(`${proc}: routed back to its active instance after an interrupted deploy`);
  const leftovers = Object.values(state.instances).filter((instance) => instance.state === "deploying");
  for (const instance of leftovers) {
    ctx.reporter.line(`cleaning up ${instance.id}, left half-made by an interrupted deploy`);
    await ctx.supervisor.remove(instance.id);
    await stopStrays(ctx, instance.id);
  }
  await destroyInstances(ctx, state, leftovers);
  for (const name of strayDeployFolders(ctx, state)) {
    ctx.reporter.line(`removing deploy/${name}, which no instance owns`);
    await stopStrays(ctx, name);
    rmSync(join(ctx.paths.deploy, name), { recursive: true, force: true });
  }
  // kept instances: neither started nor removed above
  const running = new Set(programs.filter((program) => program.wanted).map((program) => program.name));
  const replacedButRunning = Object.values(state.instances).filter((instance) => instance.state === "kept" && running.has(instance.id) && !instance.startedByHand);
  for (const instance of replacedButRunning) {
    ctx.reporter.line(`stopping ${instance.id}, replaced by an interrupted deploy but still running`);
    await stopInstance(ctx, instance.id);
  }
  recordInterruptedRelease(ctx, state, pendingCommit);
  writeStateIfChanged(ctx.paths, state);
}

/**
 * A release killed after it stopped the active instance of an `overlap:
 * never` type (before starting its successor) left that type with nothing
 * running: the active instance runs again (the release is undone below).
 */
async function startStoppedForSuccessors(ctx: HomeContext, state: State, up: Set<string>): Promise<void> {
  const pending = state.pendingRelease;
  if (!pending || pending.kind === "stage") return;
  const stopped = Object.values(state.instances).filter(
    (instance) => instance.state === "active" && pending.procs.includes(instance.proc) && neverOverlaps(ctx, instance.proc) && !up.has(instance.id),
  );
  await startAgain(ctx, stopped, "an interrupted release had stopped it before starting its successor");
}

/**
 * A release of several process types killed between their switches left some
 * on the new version and some not. It did not happen: each switched type goes
 * back to the instance it replaced (still running, retire had not begun), if
 * it had one, and its new instance is left half-made like the rest of the
 * release (an activate's stays staged, as the rest of its release).
 */
function undoPartialReleases(ctx: HomeContext, state: State): void {
  const pending = state.pendingRelease;
  const made = (pending?.instances ?? []).flatMap((id) => state.instances[id] ?? []);
  if (pending?.kind === "stage" || made.every((instance) => instance.state === "active")) return;
  const before = pending?.kind === "activate" ? "staged" : "deploying";
  for (const instance of made.filter((candidate) => candidate.state === "active")) {
    // activate() marks the replaced instance retired at the moment it activates the new one
    const previous = instancesOf(state, instance.proc).find((other) => other.state === "kept" && other.retiredAt === instance.activatedAt);
    if (previous) {
      ctx.reporter.line(`${instance.proc}: back to ${previous.id}; release ${pending!.release} was interrupted before every process type switched`);
      unswitchState(state, instance, previous, before);
    } else {
      // the type's first instance: nothing to go back to; it goes with the rest of the release, as a failed release's undo removes it
      Object.assign(instance, { state: before, activatedAt: null });
    }
    writeState(ctx.paths, state);
  }
}

/**
 * A killed release never wrote its history line: say now how it ended. It
 * succeeded if every instance it was switching to is active now (it died
 * after its switch, while retiring), else recovery removed or stopped what it
 * had made and it failed.
 */
function recordInterruptedRelease(ctx: HomeContext, state: State, commit: string | null): void {
  const pending = state.pendingRelease;
  if (!pending) return;
  delete state.pendingRelease;
  if (readHistory(ctx.paths).some((entry) => entry.release === pending.release)) return;
  const finished = pending.instances.every((id) => state.instances[id]?.state === (pending.kind === "stage" ? "staged" : "active"));
  const entry = finished
    ? finishedRelease({ ...pending, commit }, "success")
    : finishedRelease({ ...pending, commit }, "failed", "interrupted: sarge was stopped before the release finished");
  appendHistory(ctx.paths, { ...entry, detail: [...(pending.detail ?? []), finished ? "finished by recovery after sarge was stopped during retire" : "undone by recovery"] });
}

/** The release hook or pip build a killed deploy started for instance `id` (not supervised: they outlive sarge). */
async function stopStrays(ctx: HomeContext, id: string): Promise<void> {
  const strays = strayProcesses(join(ctx.paths.deploy, id), id);
  for (const stray of strays) ctx.reporter.line(`stopping pid ${stray.pid} (${stray.command}), left running for ${id} by an interrupted deploy`);
  await stopStrayProcesses(strays);
}
