import { loadConfig } from "../home/config.js";
import type { HomeContext } from "../home/context.js";
import { newInstanceId } from "../instance/id.js";
import { isUp, startInstance, stopInstance, waitUntilInstanceReady } from "../instance/lifecycle.js";
import { allocatePort, isPortFree } from "../instance/ports.js";
import { readState, writeState, type InstanceRecord, type State } from "../instance/state.js";
import { announceOutcome, announceStart } from "./announce.js";
import { fullDiskNote } from "./disk-note.js";
import { finishedRelease, pendingRelease, type HistoryEntry, type ReleaseKind } from "./history.js";
import { acquireHomeLock, describeHolder, TokenNotHoldingError } from "./lock.js";
import { recoverInterrupted } from "./recovery.js";
import { claimReleaseNumber, pruneReleaseClaims } from "./release-number.js";
import { destroyInstances, retire } from "./retire.js";
import { ReleaseCancelledError } from "../util/errors.js";
import { releaseError, step, StepFailure, type ReleaseStep } from "./steps.js";
import { neverOverlaps, startAgain, stopBeforeSuccessors } from "./overlap.js";
import { markStaged, switchAll, undoSwitches, type Switched } from "./switch.js";

/** What makes one release differ from another: deploy, rollback and config change are each a plan. */
export interface ReleasePlan {
  kind: ReleaseKind;
  procs: string[];
  /** The release number reserved for it (release-number.ts: the server's queue passes it to sarge deploy --release). */
  release?: number;
  /** Who holds the lock, as shown to a waiting command. */
  command: string;
  /**
   * Under the lock, after recovery: the instances this release makes active,
   * new ones (state "deploying", not yet in state) or kept ones, and facts for
   * history (key names, never values). May refuse: nothing has changed yet.
   */
  choose(state: State, release: number): { instances: InstanceRecord[]; detail?: string[] };
  /** Fill in the new instances (folder, command, commit, environment); they are in state while it runs. */
  prepare(records: InstanceRecord[], state: State): Promise<void>;
  /** Stop before the switch: the ready instances keep running, not routed, as "staged" (`sarge deploy --stage`). */
  stage?: boolean;
  /**
   * Once every switch is done, before retire and record: the release has
   * happened, so a caller may verify it while the old instances are retired
   * (`sarge hold` answers `switched` then, docs/fleet-primitives.md).
   */
  switched?(result: SwitchedRelease): void;
  /**
   * Awaited after readiness, right before the switch: a fleet push lets the
   * next host get this far while the host before it is verified. Throwing
   * StepCancelled("switch") undoes the release as any failure before the
   * switch does: a staged release stays staged, the live one untouched.
   */
  beforeSwitch?(): Promise<void>;
}

/** What a release knows once it is switched in: its result but for the time it took in all. */
export type SwitchedRelease = Omit<ReleaseResult, "durationMs">;

export interface ReleaseResult {
  release: number;
  commit: string | null;
  instances: Array<{ id: string; proc: string; port: number }>;
  durationMs: number;
  switchMs: Record<string, number>;
}

/**
 * The release transaction, step by step: lock → recover → prepare → port →
 * start → readiness → switch → retire → record. Until every switch is done a
 * failure undoes the release: switched types are routed back, new instances
 * removed and reused ones stopped again, so the running version keeps
 * serving. After the switch the release has happened; retire and record only
 * warn when they fail, and the next command's recovery finishes them.
 */
export async function runRelease(ctx: HomeContext, plan: ReleasePlan): Promise<ReleaseResult> {
  const started = new Date();
  return withHomeLock(ctx, plan.command, async () => {
    await recoverInterrupted(ctx);
    const state = readState(ctx.paths);
    // a number the server's queue reserved for this release, else the next free one
    const release = plan.release ?? claimReleaseNumber(ctx.paths, state.lastRelease);
    state.lastRelease = Math.max(state.lastRelease, release);
    pruneReleaseClaims(ctx.paths, state.lastRelease);
    const { instances: records, detail } = plan.choose(state, release);
    const made = records.filter((record) => record.state === "deploying");
    for (const record of made) state.instances[record.id] = record;
    const ids = records.map((record) => record.id);
    // a rollback's commit is known now, a deploy's once its archive is unpacked
    const commit = () => records[0]?.commit ?? null;
    const pending = { ...pendingRelease(plan.kind, release, plan.procs, ids, started, detail), commit: commit() };
    state.pendingRelease = pending;
    writeState(ctx.paths, state);
    const startNotice = announceStart(ctx, plan.kind, release, plan.procs);
    const record = (outcome: HistoryEntry["outcome"], error?: string) =>
      announceOutcome(ctx, state, finishedRelease({ ...pending, commit: commit() }, outcome, error), startNotice);
    const switched: Switched[] = [];
    const stoppedEarly: InstanceRecord[] = [];
    const cancel = ctx.cancel?.signal;
    let switchMs: Record<string, number> = {};
    try {
      await plan.prepare(records, state);
      // a type that must not overlap stops its running instance before the start: a held switch waits before that, not after
      const waitsBeforeStart = plan.beforeSwitch !== undefined && records.some((record) => neverOverlaps(ctx, record.proc));
      await launch(ctx, state, records, {
        beforeStart: async () => {
          if (plan.stage) return;
          if (waitsBeforeStart) await plan.beforeSwitch!();
          stoppedEarly.push(...(await stopBeforeSuccessors(ctx, state, records)));
        },
        switchesFollow: !plan.stage,
      });
      if (plan.stage) markStaged(ctx, state, records);
      else {
        if (plan.beforeSwitch && !waitsBeforeStart) {
          await plan.beforeSwitch();
          // an instance may have died, or lost its port, while the switch was held
          await readiness(ctx, records, "still ready");
        }
        switchMs = await step(
          "switch",
          () => {
            beginSwitch(ctx, state);
            return switchAll(ctx, state, records, switched);
          },
          cancel,
        );
      }
    } catch (error) {
      const failure = releaseError(plan.kind, error);
      const diskNote = fullDiskNote(ctx.paths.root);
      await undo(ctx, state, records, made, switched);
      await startAgain(ctx, stoppedEarly, "the release that stopped it was undone").catch((restart: unknown) =>
        ctx.reporter.line(`could not start ${stoppedEarly.map((instance) => instance.id).join(", ")} again (${(restart as Error).message}); start it with sarge start`),
      );
      if (diskNote) ctx.reporter.line(diskNote());
      const outcome = failure instanceof ReleaseCancelledError ? "cancelled" : "failed";
      await onlyWarn(ctx, "record", () => record(outcome, (failure as Error).message), `the release ${outcome}, and record failed too`, RECORD_LATER);
      throw failure;
    }
    const done = plan.stage ? "staged" : "switched";
    const result = { release, commit: commit(), instances: records.map(({ id, proc, port }) => ({ id, proc, port })), switchMs };
    if (!plan.stage) plan.switched?.(result);
    await onlyWarn(ctx, "retire", () => retire(ctx, state, switched, records), `${done}, but retire failed`, "the next sarge command finishes retiring");
    await onlyWarn(ctx, "record", () => record("success"), `${done}, but record failed`, RECORD_LATER);
    return { ...result, durationMs: Date.now() - started.getTime() };
  }).catch((error: unknown) => {
    // a failure of the lock step itself: nothing began
    throw releaseError(plan.kind, error);
  });
}

/** Run `work` holding the home's deploy lock; every command that changes instances or etc/sarge.yaml goes through here. */
export async function withHomeLock<T>(ctx: Pick<HomeContext, "paths" | "reporter" | "cancel">, command: string, work: () => Promise<T>): Promise<T> {
  const cancel = ctx.cancel?.signal;
  const lock = await step(
    "lock",
    () =>
      acquireHomeLock(
        ctx.paths,
        command,
        {
          waiting: (holder) => ctx.reporter.line(`waiting for the deploy lock held by ${describeHolder(holder)}`),
          takeover: (holder) => ctx.reporter.line(`took over the deploy lock of ${describeHolder(holder)}, which is no longer running`),
        },
        { cancel },
      ),
    cancel,
  ).catch((error: unknown) => {
    // a token that holds nothing is the caller's mistake, said as it is, not a step of the release that failed
    throw error instanceof StepFailure && error.cause instanceof TokenNotHoldingError ? error.cause : error;
  });
  try {
    return await work();
  } finally {
    lock.release();
  }
}

/**
 * Give each instance a port (a kept instance keeps its own while it is free),
 * start them all, and wait until every one is ready. A staged instance that
 * still runs keeps its port and process: only its readiness is checked again.
 * `beforeStart` runs first in the start step (overlap: never stops the old ones there).
 * When `switchesFollow`, the router checks what the switches will need while
 * the instances get ready.
 */
async function launch(
  ctx: HomeContext,
  state: State,
  records: InstanceRecord[],
  { beforeStart, switchesFollow }: { beforeStart: () => Promise<void>; switchesFollow: boolean },
): Promise<void> {
  const cancel = ctx.cancel?.signal;
  const starting = await step("port", async () => {
    // only a staged instance may still run: the supervisor is asked only then
    const staged = records.some((record) => record.state === "staged");
    const running = new Set(staged ? (await ctx.supervisor.status()).filter(isUp).map((program) => program.name) : []);
    const starting = records.filter((record) => record.state !== "staged" || !running.has(record.id));
    for (const record of starting) {
      if (record.port !== 0 && (await isPortFree(record.port))) continue;
      record.port = await allocatePort(ctx.config.portRange, state);
      writeState(ctx.paths, state);
    }
    return starting;
  }, cancel);
  await step("start", async () => {
    await beforeStart();
    // fail only once every start has ended: the undo must not remove a program that a start still under way then adds
    const starts = await Promise.allSettled(starting.map((record) => startInstance(ctx, record)));
    const failed = starts.find((start) => start.status === "rejected");
    if (failed) throw failed.reason;
  }, cancel);
  // what the checks found is the switch's to report; here they only must have ended, whatever happens
  const checking = switchesFollow ? ctx.router.prepareSwitches(state, records).catch(() => undefined) : undefined;
  try {
    await readiness(ctx, records);
  } finally {
    await checking;
  }
}

async function readiness(ctx: HomeContext, records: InstanceRecord[], said = "ready"): Promise<void> {
  await step(
    "readiness",
    () =>
      Promise.all(
        records.map(async (record) => {
          const { readyMs } = await waitUntilInstanceReady(ctx, record);
          ctx.reporter.line(`${record.id}: ${said} on port ${record.port} after ${(readyMs / 1000).toFixed(1)}s`);
        }),
      ),
    ctx.cancel?.signal,
  );
}

/**
 * The switch begins: from here the release finishes (a cancel is refused),
 * and state says so, for whoever watches it from outside (the server's queue).
 */
function beginSwitch(ctx: HomeContext, state: State): void {
  ctx.cancel?.beginSwitch();
  if (state.pendingRelease) state.pendingRelease.switchingSince = new Date().toISOString();
  writeState(ctx.paths, state);
}

/**
 * A release that failed before its switch completed did not happen: route
 * back, remove the instances it made and stop the kept ones it started (a
 * staged one stays staged, for another try or a discard). A
 * cleanup that fails too (the supervisor is gone) must not hide why the
 * release failed: what is left stays in state, and the next command's
 * recovery removes it.
 */
async function undo(ctx: HomeContext, state: State, records: InstanceRecord[], made: InstanceRecord[], switched: Switched[]): Promise<void> {
  const leftForRecovery = await undoSwitches(ctx, state, switched);
  const cleanup = async () => {
    for (const reused of records.filter((record) => !made.includes(record) && record.state === "kept" && !leftForRecovery.includes(record))) {
      await stopInstance(ctx, reused.id);
    }
    await destroyInstances(ctx, state, made.filter((record) => !leftForRecovery.includes(record)));
  };
  await cleanup().catch((error: unknown) => {
    ctx.log.error({ err: error }, "could not clean up after a failed release");
    const left = made.filter((record) => state.instances[record.id]).map((record) => record.id);
    if (left.length > 0) ctx.reporter.line(`could not remove ${left.join(", ")} now (${(error as Error).message}); the next sarge command will`);
  });
}

const RECORD_LATER = "the next sarge command records it in history";

/**
 * A step whose failure must not hide what came before it, a completed switch
 * (never undone: the replaced instances may be stopped already) or the
 * release's own failure: it is a warning, and the next command's recovery
 * finishes the step.
 */
async function onlyWarn(ctx: HomeContext, name: ReleaseStep, work: () => Promise<void>, what: string, later: string): Promise<void> {
  try {
    await step(name, work);
  } catch (error) {
    ctx.log.error({ err: error }, what);
    ctx.reporter.line(`warning: ${what} (${(error as { reason?: string }).reason ?? (error as Error).message}); ${later}`);
  }
}

/** Records for new instances of `procs`, with etc/sarge.yaml's env as it is now (call under the lock: a change applied while waiting counts). */
export function newInstances(ctx: HomeContext, procs: string[], release: number): InstanceRecord[] {
  const env = loadConfig(ctx.paths).env;
  return procs.map((proc) => ({
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
  }));
}
