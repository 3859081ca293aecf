import type { HomeContext } from "../home/context.js";
import { SLOTS } from "../haproxy/types.js";
import { instancesOf, writeState, type InstanceRecord, type InstanceState, type State } from "../instance/state.js";

export interface Switched {
  proc: string;
  next: InstanceRecord;
  previous: InstanceRecord | undefined;
  /** What `next` was before it was switched to: "deploying" (new) or "kept" (a rollback target). */
  nextStateBefore: InstanceState;
}

/**
 * Make `instance` the active one of its process type: route its stable port to
 * it (when it has one) and mark the one it replaces as kept. The replaced
 * instance keeps running; retiring it is the caller's next step.
 */
export async function activate(ctx: HomeContext, state: State, instance: InstanceRecord): Promise<number> {
  const switchMs = ctx.router.routes(instance.proc) ? (await ctx.router.activate(state, instance.proc, instance.id, instance.port)).switchMs : 0;
  const now = new Date().toISOString();
  for (const other of instancesOf(state, instance.proc)) {
    if (other.state === "active" && other.id !== instance.id) {
      other.state = "kept";
      other.retiredAt = now;
    }
  }
  instance.state = "active";
  instance.activatedAt = now;
  instance.retiredAt = null;
  delete instance.startedByHand;
  writeState(ctx.paths, state);
  return switchMs;
}

/** Activate every new instance; `switched` records each before it is attempted, so a failure can be undone. */
export async function switchAll(ctx: HomeContext, state: State, records: InstanceRecord[], switched: Switched[]): Promise<Record<string, number>> {
  const switchMs: Record<string, number> = {};
  for (const record of records) {
    const previous = instancesOf(state, record.proc).find((instance) => instance.state === "active");
    switched.push({ proc: record.proc, next: record, previous, nextStateBefore: record.state });
    switchMs[record.proc] = await activate(ctx, state, record);
    ctx.reporter.line(describeSwitch(ctx, record, switchMs[record.proc]!));
  }
  return switchMs;
}

/** A stage's end instead of the switch: its ready instances keep running, not routed, until `sarge activate` or `sarge discard`. */
export function markStaged(ctx: HomeContext, state: State, records: InstanceRecord[]): void {
  for (const record of records) record.state = "staged";
  writeState(ctx.paths, state);
  for (const record of records) ctx.reporter.line(`${record.id}: staged on port ${record.port}, not routed`);
}

/**
 * Route every switched process type back to the instance it had (still
 * running: nothing was retired yet). Where that fails, state is put back to
 * say the previous instance is active and the new one half-made, so the next
 * command routes back first and only then removes it. Returns the new
 * instances that must be left for that.
 */
export async function undoSwitches(ctx: HomeContext, state: State, switched: Switched[]): Promise<InstanceRecord[]> {
  const leftForRecovery: InstanceRecord[] = [];
  for (const { next, previous, nextStateBefore } of [...switched].reverse()) {
    if (!previous) continue;
    try {
      await activate(ctx, state, previous);
      // activate() made it kept; a staged one stays staged, a new one stays half-made for the undo (or recovery) to remove
      Object.assign(next, { state: nextStateBefore, activatedAt: null });
      writeState(ctx.paths, state);
      ctx.reporter.line(`${previous.proc}: routed back to ${previous.id}`);
    } catch (error) {
      // The switch may not have begun (this is tried for every switch attempted): say what is known, not that it points elsewhere.
      ctx.log.error({ err: error }, `could not route ${previous.proc} back to ${previous.id}`);
      ctx.reporter.line(`${previous.proc}: could not make sure it routes to ${previous.id} (${(error as Error).message}); the next sarge command will`);
      unswitchState(state, next, previous, nextStateBefore);
      leftForRecovery.push(next);
      writeState(ctx.paths, state);
    }
  }
  return leftForRecovery;
}

/** State as before `next` replaced `previous`: previous active in the slot that holds it, next back to `nextState`. */
export function unswitchState(state: State, next: InstanceRecord, previous: InstanceRecord, nextState: InstanceState): void {
  Object.assign(previous, { state: "active", retiredAt: null });
  Object.assign(next, { state: nextState, activatedAt: null });
  const route = state.routes[next.proc];
  const slot = route && SLOTS.find((candidate) => route[candidate] === previous.id);
  if (route && slot) route.active = slot;
}

export function describeSwitch(ctx: HomeContext, instance: InstanceRecord, switchMs: number): string {
  const address = ctx.config.portMap[instance.proc];
  return address
    ? `${instance.proc}: ${address.host}:${address.port} now routes to ${instance.id} (switch took ${switchMs} ms)`
    : `${instance.proc}: ${instance.id} is the active instance`;
}
