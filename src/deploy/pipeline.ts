import { cpSync, mkdirSync } from "node:fs";
import type { Readable } from "node:stream";
import { unpackArchive } from "./archive.js";
import type { HomeContext } from "./context.js";
import { formatBytes } from "../format.js";
import { appendHistory, whoAmI, type HistoryEntry } from "./history.js";
import { assertProcessType, newInstanceId } from "./instance-id.js";
import { instanceDir } from "./instance-env.js";
import { startInstance, waitUntilInstanceReady } from "./instance-lifecycle.js";
import { withHomeLock } from "./home-lock.js";
import { allocatePort } from "./ports.js";
import { commandFor, readProcfile } from "./procfile-file.js";
import { prepareEnvironment } from "./python-env/index.js";
import { recoverInterrupted } from "./recovery.js";
import { runReleaseHook } from "./release-hook.js";
import { retire } from "./retire.js";
import { readState, writeState, type InstanceRecord, type State } from "./state.js";
import { step } from "./steps.js";
import { switchAll, undoSwitches, type Switched } from "./switch.js";
import { destroyInstances } from "./retire.js";

export interface DeployResult {
  release: number;
  commit: string | null;
  instances: Array<{ id: string; proc: string; port: number }>;
  durationMs: number;
  switchMs: Record<string, number>;
}

/** SPEC "One deployment, step by step". A failure before the switch completes leaves the running version untouched. */
export async function deploy(ctx: HomeContext, input: Readable, requested: string[]): Promise<DeployResult> {
  const procs = [...new Set(requested)];
  procs.forEach(assertProcessType);
  const started = new Date();
  return withHomeLock(ctx, `sarge deploy ${procs.join(" ")}`, async () => {
    await recoverInterrupted(ctx);
    const state = readState(ctx.paths);
    const release = state.lastRelease + 1;
    const records = procs.map((proc) => newRecord(ctx, proc, release));
    state.lastRelease = release;
    for (const record of records) state.instances[record.id] = record;
    writeState(ctx.paths, state);
    const switched: Switched[] = [];
    const entry = (outcome: HistoryEntry["outcome"], commit: string | null): HistoryEntry => ({
      release,
      kind: "deploy",
      procs,
      instances: records.map((record) => record.id),
      commit,
      ...whoAmI(),
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - started.getTime(),
      outcome,
    });
    try {
      const result = await build(ctx, state, records, input, switched);
      appendHistory(ctx.paths, entry("success", result.commit));
      return { ...result, release, durationMs: Date.now() - started.getTime() };
    } catch (error) {
      await undoSwitches(ctx, state, switched);
      await destroyInstances(ctx, state, records);
      appendHistory(ctx.paths, { ...entry("failed", records[0]?.commit ?? null), error: (error as Error).message });
      throw error;
    }
  });
}

function newRecord(ctx: HomeContext, proc: string, release: number): InstanceRecord {
  return {
    id: newInstanceId(proc),
    proc,
    release,
    state: "deploying",
    port: 0,
    commit: null,
    command: "",
    envKey: null,
    configEnv: { ...ctx.config.env },
    createdAt: new Date().toISOString(),
    activatedAt: null,
    retiredAt: null,
  };
}

async function build(
  ctx: HomeContext,
  state: State,
  records: InstanceRecord[],
  input: Readable,
  switched: Switched[],
): Promise<Omit<DeployResult, "release" | "durationMs">> {
  const first = records[0]!;
  const firstDir = instanceDir(ctx.paths, first.id);
  ctx.reporter.line(`release ${first.release}: unpacking into deploy/${first.id}`);
  const unpacked = await step("unpack", () => {
    mkdirSync(firstDir);
    return unpackArchive(input, firstDir, {
      ...ctx.config.archive,
      onProgress: (bytes, entries) => ctx.reporter.progress(`unpacking: ${formatBytes(bytes)}, ${entries} entries`),
    });
  });
  ctx.reporter.line(`unpacked ${unpacked.entries} entries (${formatBytes(unpacked.bytes)})${unpacked.commit ? `, commit ${unpacked.commit}` : ""}`);

  const procfile = await step("procfile", () => readProcfile(firstDir));
  await step("procfile", () => {
    for (const record of records) {
      record.commit = unpacked.commit;
      record.command = commandFor(procfile, record.proc);
      if (record !== first) cpSync(firstDir, instanceDir(ctx.paths, record.id), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
    writeState(ctx.paths, state);
  });

  await step("environment", async () => {
    for (const record of records) {
      const env = await prepareEnvironment({
        paths: ctx.paths,
        python: ctx.config.python,
        dist: ctx.config.dist,
        appDir: instanceDir(ctx.paths, record.id),
        log: (line) => ctx.log.info(line),
      });
      record.envKey = env?.key ?? null;
      if (env && record === first) ctx.reporter.line(`environment ${env.key}: ${env.reused ? "reused, nothing installed" : "built"}`);
    }
    writeState(ctx.paths, state);
  });

  const releaseEntry = procfile.find((entry) => entry.name === "release");
  if (releaseEntry) await step("release", () => runReleaseHook(ctx, first, releaseEntry.command));

  await step("port", async () => {
    for (const record of records) {
      record.port = await allocatePort(ctx.config.portRange, state);
      writeState(ctx.paths, state);
    }
  });

  await step("start", () => Promise.all(records.map((record) => startInstance(ctx, record))));
  await step("readiness", () =>
    Promise.all(
      records.map(async (record) => {
        const { readyMs } = await waitUntilInstanceReady(ctx, record);
        ctx.reporter.line(`${record.id}: ready on port ${record.port} after ${(readyMs / 1000).toFixed(1)}s`);
      }),
    ),
  );

  const switchMs = await step("switch", () => switchAll(ctx, state, records, switched));
  await step("retire", () => retire(ctx, state, switched));
  return { commit: unpacked.commit, instances: records.map(({ id, proc, port }) => ({ id, proc, port })), switchMs };
}
