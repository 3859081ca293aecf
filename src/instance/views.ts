import { readDeployFreeze, type DeployFreeze } from "../home/deploy-freeze.js";
import type { ProgramStatus } from "../supervise/supervisor.js";
import type { HomeContext } from "../home/context.js";
import { tailFile } from "./log-tail.js";
import { instanceLogPath, type HomePaths } from "../home/paths.js";
import { probeInstance } from "./readiness.js";
import { recoverIfIdle } from "../release/recovery-check.js";
import { readState, type InstanceRecord, type InstanceState } from "./state.js";
import { compareText } from "../util/compare-text.js";

/** One row of `sarge list` (also its --json form: keep the field names stable). */
export interface InstanceView {
  id: string;
  proc: string;
  state: InstanceState;
  /** What the supervisor says: running, starting, backoff, stopping, stopped, or "missing"; "unknown" while it is not running. */
  process: ProgramStatus["state"] | "missing" | "unknown";
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
  /** Whether the stable address (or, without one, the process) answers now; null while the supervisor is not running. */
  healthy: boolean | null;
  /** Null when HAProxy answers at the stable address, else why not: nothing answers, or another program listens there. */
  problem: string | null;
  /** The active instance's last log lines when it is not healthy. */
  lastLines: string[];
  /** The home's deploy lock (`sarge lock`), the same on every row; null when deploys are open. */
  deployLock: DeployFreeze | null;
}

export async function listInstances(ctx: HomeContext): Promise<InstanceView[]> {
  const programs = new Map((await recoverIfIdle(ctx, "sarge list")).map((program) => [program.name, program]));
  return instanceViews(ctx.paths, programs);
}

/** What state.json says while the supervisor is not running: no process states. */
export function recordedInstances(paths: HomePaths): InstanceView[] {
  return instanceViews(paths, null);
}

function instanceViews(paths: HomePaths, programs: Map<string, ProgramStatus> | null): InstanceView[] {
  return Object.values(readState(paths).instances)
    .sort((a, b) => compareText(a.proc, b.proc) || b.release - a.release)
    .map((instance) => instanceView(instance, programs));
}

function instanceView(instance: InstanceRecord, programs: Map<string, ProgramStatus> | null): InstanceView {
  const program = programs?.get(instance.id);
  return {
    id: instance.id,
    proc: instance.proc,
    state: instance.state,
    process: programs ? (program?.state ?? "missing") : "unknown",
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
  return Promise.all(
    statusRows(ctx, await listInstances(ctx)).map(async ({ row, active }) => {
      const running = active?.process === "running";
      const up = running || active?.process === "starting";
      // A stable address answers even with nothing behind it (HAProxy accepts the connection): the instance itself must answer too.
      const [problem, instanceProblem] = await Promise.all([
        row.address !== null ? ctx.router.probe(row.proc) : null,
        row.address !== null && up ? probeInstance(active!.port, ctx.config.health.httpPath) : null,
      ]);
      const healthy = row.address !== null ? up && problem === null && instanceProblem === null : running;
      const lastLines = active && !healthy ? tailFile(instanceLogPath(ctx.paths, active.id), 5).split("\n").filter(Boolean) : [];
      return { ...row, healthy, problem, lastLines };
    }),
  );
}

/** `sarge status` from state.json and the config while the supervisor is not running: nothing is probed. */
export function recordedStatus(home: Pick<HomeContext, "paths" | "config">): ProcStatusView[] {
  return statusRows(home, recordedInstances(home.paths)).map(({ row }) => row);
}

/** One row per process type in port_map or with instances, sorted, health not yet known. */
function statusRows({ config, paths }: Pick<HomeContext, "paths" | "config">, instances: InstanceView[]): Array<{ row: ProcStatusView; active: InstanceView | undefined }> {
  const deployLock = readDeployFreeze(paths);
  const procs = [...new Set([...Object.keys(config.portMap), ...instances.map((instance) => instance.proc)])].sort();
  return procs.map((proc) => {
    const active = activeOf(instances, proc);
    const address = config.portMap[proc];
    const row = {
      proc,
      active: active?.id ?? null,
      address: address ? `${address.host}:${address.port}` : null,
      port: active?.port ?? null,
      process: active?.process ?? null,
      restarts: active?.restarts ?? 0,
      healthy: null,
      problem: null,
      lastLines: [],
      deployLock,
    };
    return { row, active };
  });
}

function activeOf(instances: InstanceView[], proc: string): InstanceView | undefined {
  return instances.find((instance) => instance.proc === proc && instance.state === "active");
}
