import { DeployError } from "../errors.js";

/** The named steps of a deploy, in order; failure messages and the journal use these names. */
export type DeployStep =
  | "lock"
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

/**
 * For the crash tests: with SARGE_PAUSE_AT=<step>, sarge stops just before that
 * step begins, says so on stderr, and waits to be killed.
 */
async function pauseIfAsked(name: DeployStep): Promise<void> {
  if (process.env.SARGE_PAUSE_AT !== name) return;
  process.stderr.write(`sarge: paused before step ${name} (SARGE_PAUSE_AT)\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
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
