import type { ProgramStatus } from "../supervise/supervisor.js";
import type { HomeContext } from "../home/context.js";
import { tailFile } from "./log-tail.js";
import { instanceLogPath } from "../home/paths.js";
import { probeInstance } from "./readiness.js";
import { recoverIfIdle } from "../release/recovery-check.js";
import { readState, type InstanceRecord, type InstanceState } from "./state.js";

/** One row of `sarge list` (also its --json form: keep the field names stable). */
export interface InstanceView {
  id: string;
  proc: string;
  state: InstanceState;
  /** What the supervisor says: running, starting, backoff, stopping, stopped, or "missing". */
  process: ProgramStatus["state"] | "missing";
  pid: number | null;
  port: number;
  release: number;
  commit: string | null;
  createdAt: string;
  activatedAt: string | null;
  restarts: number;
}

/** One row of `sarge status`. */
export interface ProcStatusView {
  proc: string;
  active: string | null;
  address: string | null;
  port: number | null;
  process: InstanceView["process"] | null;
  restarts: number;
  /** Whether the stable address (or, without one, the process) answers now. */
  healthy: boolean;
  /** Null when HAProxy answers at the stable address, else why not: nothing answers, or another program listens there. */
  problem: string | null;
  /** The active instance's last log lines when it is not healthy. */
  lastLines: string[];
}

export async function listInstances(ctx: HomeContext): Promise<InstanceView[]> {
  const programs = new Map((await recoverIfIdle(ctx, "sarge list")).map((program) => [program.name, program]));
  const state = readState(ctx.paths);
  return Object.values(state.instances)
    .sort((a, b) => a.proc.localeCompare(b.proc) || b.release - a.release)
    .map((instance) => instanceView(instance, programs.get(instance.id)));
}

function instanceView(instance: InstanceRecord, program: ProgramStatus | undefined): InstanceView {
  return {
    id: instance.id,
    proc: instance.proc,
    state: instance.state,
    process: program?.state ?? "missing",
    pid: program?.pid ?? null,
    port: instance.port,
    release: instance.release,
    commit: instance.commit,
    createdAt: instance.createdAt,
    activatedAt: instance.activatedAt,
    restarts: program?.restarts ?? 0,
  };
}

export async function procStatus(ctx: HomeContext): Promise<ProcStatusView[]> {
  const instances = await listInstances(ctx);
  const procs = [...new Set([...Object.keys(ctx.config.portMap), ...instances.map((instance) => instance.proc)])].sort();
  return Promise.all(
    procs.map(async (proc) => {
      const active = instances.find((instance) => instance.proc === proc && instance.state === "active");
      const address = ctx.config.portMap[proc];
      const running = active?.process === "running";
      const up = running || active?.process === "starting";
      const problem = address ? await ctx.router.probe(proc) : null;
      // A stable address answers even with nothing behind it (HAProxy accepts the connection): the instance itself must answer too.
      const healthy = address ? up && problem === null && (await probeInstance(active!.port, ctx.config.health.httpPath)) === null : running;
      return {
        proc,
        active: active?.id ?? null,
        address: address ? `${address.host}:${address.port}` : null,
        port: active?.port ?? null,
        process: active?.process ?? null,
        restarts: active?.restarts ?? 0,
        healthy,
        problem,
        lastLines: active && !healthy ? tailFile(instanceLogPath(ctx.paths, active.id), 5).split("\n").filter(Boolean) : [],
      };
    }),
  );
}
