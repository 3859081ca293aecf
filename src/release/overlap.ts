import { processSettings } from "../home/config-processes.js";
import type { HomeContext } from "../home/context.js";
import { isUp, startInstance, stopInstance } from "../instance/lifecycle.js";
import { instancesOf, type InstanceRecord, type State } from "../instance/state.js";

/** Whether a process type must never run two instances at once (`processes.<type>.overlap: never`). */
export function neverOverlaps(ctx: HomeContext, proc: string): boolean {
  return processSettings(ctx.config.processes, proc).overlap === "never";
}

/**
 * Before a release starts its instances: the running active instance of each
 * type that must not overlap is stopped (that type has a gap until its
 * successor is ready). Returns those stopped, to start again if the release
 * is undone.
 */
export async function stopBeforeSuccessors(ctx: HomeContext, state: State, records: InstanceRecord[]): Promise<InstanceRecord[]> {
  const successors = records.filter((candidate) => neverOverlaps(ctx, candidate.proc));
  // the supervisor is asked only when some type must not overlap
  if (successors.length === 0) return [];
  const running = new Set((await ctx.supervisor.status()).filter(isUp).map((program) => program.name));
  const stopped: InstanceRecord[] = [];
  for (const record of successors) {
    const active = instancesOf(state, record.proc).find((instance) => instance.state === "active" && instance.id !== record.id && running.has(instance.id));
    if (!active) continue;
    ctx.reporter.line(`${active.id}: stopping before ${record.id} starts (${record.proc} has overlap: never)`);
    await stopInstance(ctx, active.id);
    stopped.push(active);
  }
  return stopped;
}

/** An undone release did not replace them: they run again. */
export async function startAgain(ctx: HomeContext, stopped: InstanceRecord[], why: string): Promise<void> {
  for (const instance of stopped) {
    await startInstance(ctx, instance);
    ctx.reporter.line(`${instance.id}: started again (${why})`);
  }
}
