import { stopTreeOnAbort } from "../util/abort-tree.js";
import { startChild } from "../util/run-child.js";
import type { HomeContext } from "../home/context.js";
import { instanceDir, instanceEnvironment } from "../instance/env.js";
import type { InstanceRecord } from "../instance/state.js";

/**
 * Run the Procfile's `release` command once, in the new instance's folder and
 * environment, before anything is switched (like Heroku's release phase).
 * It stays in sarge's process group, so a killed sarge takes it along; a
 * cancelled release stops it and what it started.
 */
export async function runReleaseHook(ctx: HomeContext, instance: InstanceRecord, command: string): Promise<void> {
  ctx.reporter.line(`release: ${command}`);
  const child = startChild("/bin/sh", ["-c", command], { cwd: instanceDir(ctx.paths, instance.id), env: instanceEnvironment(ctx.paths, instance) });
  const unwatch = stopTreeOnAbort(child.pid, ctx.cancel?.signal);
  const result = await child.result.finally(unwatch);
  const output = result.all.trimEnd();
  if (output) ctx.log.info({ output }, "release hook output");
  for (const line of output.split("\n").slice(-40)) if (line) ctx.reporter.line(`release | ${line}`);
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : (result.failure ?? `exited with code ${result.exitCode}`);
    throw new Error(`the release command \`${command}\` ${how}`);
  }
}
