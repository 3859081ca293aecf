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

/** Run one step; any failure becomes "deploy failed at <step>: <reason>". */
export async function step<T>(name: DeployStep, work: () => Promise<T> | T): Promise<T> {
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
