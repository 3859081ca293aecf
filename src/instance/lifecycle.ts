import { rmSync } from "node:fs";
import { instanceLogPath } from "../home/paths.js";
import { pollUntil } from "../util/poll.js";
import type { ProgramSpec } from "../supervise/supervisor.js";
import type { HomeContext } from "../home/context.js";
import { instanceDir, instanceEnvironment } from "./env.js";
import { tailFile } from "./log-tail.js";
import { waitUntilReady } from "./readiness.js";
import type { InstanceRecord } from "./state.js";

/** How long a process without a stable port must stay up to count as started. */
const unroutedSettleMs = 1500;

export function programSpec(ctx: HomeContext, instance: InstanceRecord): ProgramSpec {
  return {
    name: instance.id,
    command: instance.command,
    cwd: instanceDir(ctx.paths, instance.id),
    env: instanceEnvironment(ctx.paths, instance),
    logFile: instanceLogPath(ctx.paths, instance.id),
    stopTimeoutMs: 10_000,
    logs: ctx.config.logs,
  };
}

export async function startInstance(ctx: HomeContext, instance: InstanceRecord): Promise<void> {
  await ctx.supervisor.start(programSpec(ctx, instance));
}

/**
 * Wait until a started instance can take traffic: routed types must answer on
 * their port, others must stay up for a moment. Throws with the reason and
 * the last lines of its log.
 */
export async function waitUntilInstanceReady(ctx: HomeContext, instance: InstanceRecord): Promise<{ readyMs: number }> {
  const exited = async () => {
    const status = (await ctx.supervisor.status()).find((program) => program.name === instance.id);
    if (!status) return "disappeared";
    if (status.state === "running" || status.state === "starting") return null;
    return status.lastExit ? `exited (${status.lastExit})` : `is ${status.state}`;
  };
  const result = ctx.router.routes(instance.proc)
    ? await waitUntilReady({ port: instance.port, httpPath: ctx.config.health.httpPath, timeoutMs: ctx.config.health.timeoutMs, exited })
    : await stayUp(exited, Math.min(unroutedSettleMs, ctx.config.health.timeoutMs));
  if (!result.ready) {
    const tail = tailFile(instanceLogPath(ctx.paths, instance.id), 20);
    throw new Error(`${instance.id} ${result.reason}` + (tail ? `\nlast lines of its log:\n${tail}` : "\n(its log is empty)"));
  }
  return { readyMs: result.elapsedMs };
}

async function stayUp(exited: () => Promise<string | null>, ms: number) {
  const started = Date.now();
  const exit = await pollUntil(async () => (await exited()) ?? undefined, { timeoutMs: ms, intervalMs: 100 });
  if (exit !== undefined) return { ready: false as const, reason: `${exit} within ${ms / 1000}s of starting` };
  return { ready: true as const, elapsedMs: Date.now() - started };
}

/** Remove an instance entirely: its program, folder and logs. The caller drops it from state. */
export async function destroyInstanceFiles(ctx: HomeContext, id: string): Promise<void> {
  await ctx.supervisor.remove(id);
  rmSync(instanceDir(ctx.paths, id), { recursive: true, force: true });
  const log = instanceLogPath(ctx.paths, id);
  for (let i = 0; i <= ctx.config.logs.keep; i++) rmSync(i === 0 ? log : `${log}.${i}`, { force: true });
}
