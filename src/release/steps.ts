import { ReleaseCancelledError, ReleaseError } from "../util/errors.js";
import type { ReleaseKind } from "./history.js";

/**
 * The named steps of a release, in order. `unpack` receives a deploy's
 * archive before the lock; `procfile`, `copy`, `environment` and `release`
 * (the Procfile's release command) are a deploy's prepare.
 */
export type ReleaseStep =
  | "unpack"
  | "lock"
  | "prepare"
  | "procfile"
  | "copy"
  | "environment"
  | "release"
  | "port"
  | "start"
  | "readiness"
  | "switch"
  | "retire"
  | "record";

/** Where SARGE_PAUSE_AT can stop: before each step, and inside the switch once the new slot takes requests but before the old one drains. */
export type PausePoint = ReleaseStep | "switch-drain";

const arrivals = new Map<PausePoint, number>();

/**
 * For the crash tests: with SARGE_PAUSE_AT=<point> (or <point>#<n>: the n-th
 * time it gets there, as the second process type's switch), sarge stops
 * there once, says so on stderr, and waits to be killed; a SIGUSR2 lets it go
 * on, for tests that change something under a running release (kill its
 * supervisor, start another deploy).
 */
export async function pauseIfAsked(name: PausePoint): Promise<void> {
  const [point, nth = "1"] = (process.env.SARGE_PAUSE_AT ?? "").split("#");
  if (point !== name) return;
  const arrival = (arrivals.get(name) ?? 0) + 1;
  arrivals.set(name, arrival);
  if (arrival !== Number(nth)) return;
  process.stderr.write(`sarge: paused before step ${name} (SARGE_PAUSE_AT)\n`);
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    process.once("SIGUSR2", () => {
      clearInterval(keepAlive);
      process.stderr.write(`sarge: resumed at step ${name}\n`);
      resolve();
    });
  });
}

/** A step's failure, before it is known which release it belongs to. */
export class StepFailure extends Error {
  constructor(
    readonly step: ReleaseStep,
    readonly reason: string,
    readonly detail: string | undefined,
    cause: unknown,
  ) {
    super(`${step}: ${reason}`, { cause });
  }
}

/** A step that stopped because the release was cancelled (release/cancel.ts), or was cancelled before it began. */
export class StepCancelled extends StepFailure {
  constructor(step: ReleaseStep) {
    super(step, "cancelled", undefined, undefined);
  }
}

/**
 * Run one step; any failure becomes a StepFailure naming it (see
 * releaseError). With the release's cancel signal, a cancel asked for before
 * the step, or one that made it fail, stops the release there instead.
 */
export async function step<T>(name: ReleaseStep, work: () => Promise<T> | T, cancel?: AbortSignal): Promise<T> {
  await pauseIfAsked(name);
  if (cancel?.aborted) throw new StepCancelled(name);
  try {
    return await work();
  } catch (error) {
    if (error instanceof StepFailure) throw error;
    if (cancel?.aborted) throw new StepCancelled(name);
    const message = error instanceof Error ? error.message : String(error);
    const [reason, ...detail] = message.split("\n");
    const extra = (error as { detail?: string }).detail;
    throw new StepFailure(name, reason ?? "unknown error", [...detail, ...(extra ? [extra] : [])].join("\n") || undefined, error);
  }
}

const RELEASE_NAMES: Record<ReleaseKind, string> = { deploy: "deploy", rollback: "rollback", config: "config change", stage: "stage", activate: "activate" };

/** "<release> failed at <step>: <reason>" for a step's failure, "<release> cancelled at <step>" for a cancel; any other error as it is. */
export function releaseError(kind: ReleaseKind, error: unknown): unknown {
  if (error instanceof StepCancelled) return new ReleaseCancelledError(RELEASE_NAMES[kind], error.step);
  if (!(error instanceof StepFailure)) return error;
  return new ReleaseError(RELEASE_NAMES[kind], error.step, error.reason, { detail: error.detail, cause: error.cause });
}
