import { editEnv, type EnvChange } from "../home/config-edit.js";
import type { HomeContext } from "../home/context.js";
import { openHome } from "../home/open.js";
import type { HomePaths } from "../home/paths.js";
import { terminalReporter } from "../util/reporter.js";
import { readState, writeState } from "../instance/state.js";
import { copyInstanceFolder } from "./deploy.js";
import { newInstances, runRelease, withHomeLock, type ReleaseResult } from "./transaction.js";
import { releaseError, step } from "./steps.js";

/**
 * Apply etc/sarge.yaml's `env` as a release: every active process type gets a
 * new instance from a copy of its active instance's folder (same code, same
 * environment) started with the new values, switched in like a deploy. The
 * replaced instances are kept, so `sarge rollback` brings back the old values.
 * With nothing running, the change is still recorded as a release.
 */
export async function applyConfigRelease(ctx: HomeContext, changedKeys: string[]): Promise<ReleaseResult> {
  const active = Object.values(readState(ctx.paths).instances).filter((instance) => instance.state === "active");
  const procs = active.map((instance) => instance.proc);
  return runRelease(ctx, {
    kind: "config",
    procs,
    command: `sarge config (${changedKeys.join(", ")})`,
    choose: (_state, release) => ({ instances: newInstances(ctx, procs, release), detail: changedKeys }),
    prepare: (records, state) =>
      step("prepare", () => {
        for (const record of records) {
          const source = Object.values(state.instances).find((instance) => instance.proc === record.proc && instance.state === "active");
          if (!source) throw new Error(`${record.proc} has no active instance any more to copy`);
          ctx.reporter.line(`${record.proc}: ${record.id} from ${source.id} with the new configuration`);
          copyInstanceFolder(ctx, source, record);
          Object.assign(record, { command: source.command, commit: source.commit, envKey: source.envKey });
        }
        writeState(ctx.paths, state);
      }, ctx.cancel?.signal),
  });
}

/**
 * Edit etc/sarge.yaml's `env` holding the home lock: two edits at once would
 * each read the same file and drop the other's keys. Returns the keys whose
 * value changed. The release that applies them takes the lock again; it reads
 * the file as it is then, so an edit made in between is applied too.
 */
export async function editEnvUnderLock(paths: HomePaths, change: EnvChange): Promise<string[]> {
  const reporter = terminalReporter(openHome(paths, "config").log);
  const keys = change.set?.map(([key]) => key) ?? change.unset ?? [];
  return withHomeLock({ paths, reporter }, `sarge config (editing ${keys.join(", ")})`, async () => editEnv(paths, change).changed).catch((error: unknown) => {
    throw releaseError("config", error);
  });
}
