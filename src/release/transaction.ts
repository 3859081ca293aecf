import { loadConfig } from "../home/config.js";
import type { HomeContext } from "../home/context.js";
import { announceOutcome, announceStart } from "./announce.js";
import { finishedRelease, pendingRelease, type HistoryEntry, type ReleaseKind } from "./history.js";
import { withHomeLock } from "./home-lock.js";
import { newInstanceId } from "../instance/id.js";
import { startInstance, waitUntilInstanceReady } from "../instance/lifecycle.js";
import { allocatePort, isPortFree } from "../instance/ports.js";
import { recoverInterrupted } from "./recovery.js";
import { destroyInstances, retire } from "./retire.js";
import { readState, writeState, type InstanceRecord, type State } from "../instance/state.js";
import { step } from "./steps.js";
import { switchAll, undoSwitches, type Switched } from "./switch.js";

export interface NewInstancesRelease {
  kind: Exclude<ReleaseKind, "rollback">;
  procs: string[];
  /** Who holds the lock, as shown to a waiting command. */
  command: string;
  /** Key names (never values) or other facts for history. */
  detail?: string[];
  /** Fill each new instance's folder, command, commit and environment. Runs with the records in state. */
  prepare(records: InstanceRecord[], state: State): Promise<void>;
}

export interface ReleaseResult {
  release: number;
  commit: string | null;
  instances: Array<{ id: string; proc: string; port: number }>;
  durationMs: number;
  switchMs: Record<string, number>;
}

/**
 * The transaction every release that creates instances goes through (a deploy,
 * a config change): under the home lock, new instances are prepared, given
 * ports, started and found ready, then switched in and the replaced ones
 * retired. A failure before the switch completes removes only the new
 * instances and routes back, so the running version keeps serving.
 */
export async function releaseNewInstances(ctx: HomeContext, spec: NewInstancesRelease): Promise<ReleaseResult> {
  const started = new Date();
  return withHomeLock(ctx, spec.command, async () => {
    await recoverInterrupted(ctx);
    const state = readState(ctx.paths);
    const release = ++state.lastRelease;
    // env as etc/sarge.yaml says now, under the lock: a config change applied while we waited counts
    const env = loadConfig(ctx.paths).env;
    const records = spec.procs.map((proc) => ({ ...newRecord(proc, release, env), releaseKind: spec.kind }));
    for (const record of records) state.instances[record.id] = record;
    const pending = pendingRelease(spec.kind, release, spec.procs, records.map((record) => record.id), started, spec.detail);
    state.pendingRelease = pending;
    writeState(ctx.paths, state);
    const switched: Switched[] = [];
    const startNotice = announceStart(ctx, spec.kind, release, spec.procs);
    // the commit is known once the archive is unpacked
    const record = (outcome: HistoryEntry["outcome"], error?: string) =>
      announceOutcome(ctx, state, finishedRelease({ ...pending, commit: records[0]?.commit ?? null }, outcome, error), startNotice);
    let switchMs: Record<string, number>;
    try {
      await spec.prepare(records, state);
      await launch(ctx, state, records);
      switchMs = await step("switch", () => switchAll(ctx, state, records, switched));
    } catch (error) {
      const leftForRecovery = await undoSwitches(ctx, state, switched);
      // A cleanup that fails too (the supervisor is gone) must not hide why the deploy failed: the
      // instances stay "deploying" in state, and the next command removes them (recovery).
      const removable = records.filter((record) => !leftForRecovery.includes(record));
      await destroyInstances(ctx, state, removable).catch((cleanup: unknown) => {
        ctx.log.error({ err: cleanup }, "could not remove the new instances after a failed release");
        const left = records.filter((record) => state.instances[record.id]).map((record) => record.id);
        ctx.reporter.line(`could not remove ${left.join(", ")} now (${(cleanup as Error).message}); the next sarge command will`);
      });
      await record("failed", (error as Error).message);
      throw error;
    }
    // Every switch is done: the release has succeeded. Stopping what it replaced may still fail;
    // that never routes back onto instances already stopped.
    await retireAfterSwitch(ctx, state, switched);
    await record("success");
    return {
      release,
      commit: records[0]?.commit ?? null,
      instances: records.map(({ id, proc, port }) => ({ id, proc, port })),
      durationMs: Date.now() - started.getTime(),
      switchMs,
    };
  });
}

/** Retire after a completed switch; a failure is reported, and the next command's recovery stops what is left running. */
export async function retireAfterSwitch(ctx: HomeContext, state: State, switched: Switched[]): Promise<void> {
  try {
    await step("retire", () => retire(ctx, state, switched));
  } catch (error) {
    ctx.log.error({ err: error }, "retire failed after a completed switch");
    ctx.reporter.line(`warning: switched, but ${(error as Error).message}; the next sarge command finishes retiring`);
  }
}

/**
 * Give each instance a port (a kept instance keeps its own while it is free),
 * start them all, and wait until every one is ready.
 */
export async function launch(ctx: HomeContext, state: State, records: InstanceRecord[]): Promise<void> {
  await step("port", async () => {
    for (const record of records) {
      if (record.port !== 0 && (await isPortFree(record.port))) continue;
      record.port = await allocatePort(ctx.config.portRange, state);
      writeState(ctx.paths, state);
    }
  });
  await step("start", () => Promise.all(records.map((record) => startInstance(ctx, record))));
  await step("readiness", () =>
    Promise.all(
      records.map(async (record) => {
        const { readyMs } = await waitUntilInstanceReady(ctx, record);
        ctx.reporter.line(`${record.id}: ready on port ${record.port} after ${(readyMs / 1000).toFixed(1)}s`);
      }),
    ),
  );
}

function newRecord(proc: string, release: number, env: Record<string, string>): InstanceRecord {
  return {
    id: newInstanceId(proc),
    proc,
    release,
    state: "deploying",
    port: 0,
    commit: null,
    command: "",
    envKey: null,
    configEnv: { ...env },
    createdAt: new Date().toISOString(),
    activatedAt: null,
    retiredAt: null,
  };
}
