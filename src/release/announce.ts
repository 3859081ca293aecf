import { hostname } from "node:os";
import type { HomeContext } from "../home/context.js";
import { appendHistory, whoAmI, type HistoryEntry } from "./history.js";
import { notify, type NotifyKind } from "./notify.js";
import { writeState, type State } from "../instance/state.js";

/**
 * Where a release is made known: history gets every release; the notify
 * endpoints get deploys (started, then succeeded or failed) and rollbacks,
 * not config changes, stages or activations.
 */
export function announceStart(ctx: HomeContext, kind: HistoryEntry["kind"], release: number, procs: string[]): Promise<void> {
  if (kind !== "deploy") return Promise.resolve();
  return notify(ctx, { kind: "deploy.started", release, procs, instances: [], commit: null, user: whoAmI().user, host: hostname() });
}

/**
 * Record the outcome, then drop the release from state (recovery has nothing
 * left to record for it); waits for the start notice too, so a hanging
 * endpoint costs one timeout, not two.
 */
export async function announceOutcome(ctx: HomeContext, state: State, entry: HistoryEntry, startNotice: Promise<void>): Promise<void> {
  appendHistory(ctx.paths, entry);
  delete state.pendingRelease;
  writeState(ctx.paths, state);
  const kind: NotifyKind | null =
    entry.kind === "deploy" || entry.kind === "rollback" ? `${entry.kind}.${entry.outcome === "success" ? "succeeded" : "failed"}` : null;
  await Promise.all([
    startNotice,
    kind &&
      notify(ctx, {
        kind,
        release: entry.release,
        procs: entry.procs,
        instances: entry.instances,
        commit: entry.commit,
        user: entry.user,
        host: hostname(),
        durationMs: entry.durationMs,
        ...(entry.error ? { error: entry.error } : {}),
      }),
  ]);
}
