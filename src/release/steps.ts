import { DeployError } from "../util/errors.js";

/** The named steps of a deploy, in order; failure messages and the journal use these names. */
export type DeployStep =
  | "lock"
  | "prepare"
  | "unpack"
  | "procfile"
  | "environment"
  | "release"
  | "port"
  | "start"
  | "readiness"
  | "switch"
  | "retire"
  | "record";

/** Where SARGE_PAUSE_AT can stop: before each step, and inside the switch once the new slot takes requests but before the old one drains. */
export type PausePoint = DeployStep | "switch-drain";

const arrivals = new Map<PausePoint, number>();

/**
 * For the crash tests: with SARGE_PAUSE_AT=<point> (or <point>#<n>: the n-th
 * time it gets there, as the second process type's switch), sarge stops
 * there once, says so on stderr, and waits to be killed; a SIGUSR2 lets it go
 * on, for tests that change something under a running deploy (kill its
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

/** Run one step; any failure becomes "deploy failed at <step>: <reason>". */
export async function step<T>(name: DeployStep, work: () => Promise<T> | T): Promise<T> {
  await pauseIfAsked(name);
  try {
    return await work();
  } catch (error) {
    if (error instanceof DeployError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const [reason, ...detail] = message.split("\n");
    const extra = (error as { detail?: string }).detail;
    throw new DeployError(name, reason ?? "unknown error", {
      detail: [...detail, ...(extra ? [extra] : [])].join("\n") || undefined,
      cause: error,
    });
  }
}
