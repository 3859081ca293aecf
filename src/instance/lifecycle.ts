import { rmSync } from "node:fs";
import { instanceLogPath } from "../home/paths.js";
import { fileSize } from "../util/file-bytes.js";
import { pollUntil } from "../util/poll.js";
import type { ProgramSpec, ProgramStatus } from "../supervise/supervisor.js";
import type { HomeContext } from "../home/context.js";
import { processSettings } from "../home/config-processes.js";
import { programCommand } from "./program-command.js";
import { instanceDir, instanceEnvironment } from "./env.js";
import { tailFile } from "./log-tail.js";
import { keepReleasedLog } from "./released-logs.js";
import { waitUntilReady } from "./readiness.js";
import { markedProcesses, programMarker, stopStrayProcesses } from "./strays.js";
import type { InstanceRecord } from "./state.js";

/** How long a process without a stable port must stay up to count as started. */
const unroutedSettleMs = 1500;

export function programSpec(ctx: HomeContext, instance: InstanceRecord): ProgramSpec {
  const settings = processSettings(ctx.config.processes, instance.proc);
  const { command, appIsMain } = programCommand(instance.command, settings.limits);
  return {
    name: instance.id,
    command,
    cwd: instanceDir(ctx.paths, instance.id),
    env: { ...instanceEnvironment(ctx.paths, instance), ...programMarker(ctx.paths) },
    logFile: instanceLogPath(ctx.paths, instance.id),
    stopSignal: settings.stopSignal,
    // the shell in front of the app dies of the signal without passing it on: only the group reaches the app
    stopTo: appIsMain ? settings.stopTo : "group",
    stopTimeoutMs: settings.graceMs,
    logs: ctx.config.logs,
  };
}

/** Whether the supervisor keeps a program up: running, or started and not yet up for long. */
export function isUp(program: ProgramStatus | undefined): boolean {
  return program !== undefined && program.wanted && (program.state === "running" || program.state === "starting");
}

export async function startInstance(ctx: HomeContext, instance: InstanceRecord): Promise<void> {
  instance.logStart = fileSize(instanceLogPath(ctx.paths, instance.id));
  await ctx.supervisor.start(programSpec(ctx, instance));
}

/**
 * Wait until a started instance can take traffic: routed types must answer on
 * their port, others must stay up for a moment. Throws with the reason and
 * the last lines of its log.
 */
export async function waitUntilInstanceReady(ctx: HomeContext, instance: InstanceRecord): Promise<{ readyMs: number }> {
  const program = async () => (await ctx.supervisor.status()).find((candidate) => candidate.name === instance.id);
  const exited = async () => {
    if (ctx.cancel?.signal.aborted) return "was cancelled";
    const status = await program();
    if (!status) return "disappeared";
    if (status.state === "running" || status.state === "starting") return null;
    return status.lastExit ? `exited (${status.lastExit})` : `is ${status.state}`;
  };
  const result = ctx.router.routes(instance.proc)
    ? await waitUntilReady({
        port: instance.port,
        httpPath: ctx.config.health.httpPath,
        timeoutMs: ctx.config.health.timeoutMs,
        exited,
        owner: async () => (await program())?.pid ?? null,
      })
    : await stayUp(exited, Math.min(unroutedSettleMs, ctx.config.health.timeoutMs));
  if (!result.ready) {
    const tail = tailFile(instanceLogPath(ctx.paths, instance.id), FAILED_START_LINES);
    throw new Error(`${instance.id} ${result.reason}` + (tail ? `\nlast lines of its log:\n${tail}` : "\n(its log is empty)"));
  }
  return { readyMs: result.elapsedMs };
}

/** How much of a new instance's output a failed readiness check shows: enough for a Python traceback. */
export const FAILED_START_LINES = 50;

async function stayUp(exited: () => Promise<string | null>, ms: number) {
  const started = Date.now();
  const exit = await pollUntil(async () => (await exited()) ?? undefined, { timeoutMs: ms, intervalMs: 100 });
  if (exit !== undefined) return { ready: false as const, reason: `${exit} within ${ms / 1000}s of starting` };
  return { ready: true as const, elapsedMs: Date.now() - started };
}

/** Stop an instance's program: its process group, then the processes that left it. */
export async function stopInstance(ctx: HomeContext, id: string): Promise<void> {
  await ctx.supervisor.stop(id);
  await stopEscaped(ctx, id);
}

/**
 * The supervisor stops a program's process group; a daemon the app started
 * in a session of its own outlives it, holding files, a port or a job queue.
 */
async function stopEscaped(ctx: HomeContext, id: string): Promise<void> {
  const escaped = markedProcesses(ctx.paths, id);
  for (const { pid, command } of escaped) ctx.reporter.line(`${id}: stopping pid ${pid} (${command}), which left its process group`);
  await stopStrayProcesses(escaped);
}

/** Remove an instance: its program (and what escaped it), folder and rotated logs; its last log is kept under var/log/released/. The caller drops it from state. */
export async function destroyInstanceFiles(ctx: HomeContext, id: string): Promise<void> {
  await ctx.supervisor.remove(id);
  await stopEscaped(ctx, id);
  rmSync(instanceDir(ctx.paths, id), { recursive: true, force: true });
  keepReleasedLog(ctx.paths, id, ctx.config.logs.keep);
}
