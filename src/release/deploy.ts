import { chmodSync, cpSync, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { formatBytes } from "../util/format.js";
import { unpackArchive } from "../archive/unpack.js";
import type { HomeContext } from "../home/context.js";
import { assertProcessType } from "../instance/id.js";
import { instanceDir } from "../instance/env.js";
import { commandFor, readProcfile } from "../procfile/read.js";
import { prepareEnvironment } from "../python-env/index.js";
import { releaseNewInstances, type ReleaseResult } from "./transaction.js";
import { runReleaseHook } from "./release-hook.js";
import { writeState, type InstanceRecord, type State } from "../instance/state.js";
import { step } from "./steps.js";

export type DeployResult = ReleaseResult;

/** SPEC "One deployment, step by step": one archive becomes one new instance per process type. */
export async function deploy(ctx: HomeContext, input: Readable, requested: string[]): Promise<DeployResult> {
  const procs = [...new Set(requested)];
  procs.forEach(assertProcessType);
  return releaseNewInstances(ctx, {
    kind: "deploy",
    procs,
    command: `sarge deploy ${procs.join(" ")}`,
    prepare: (records, state) => prepareFromArchive(ctx, state, records, input),
  });
}

/** Unpack once, read the Procfile, copy the tree for further types, build or reuse the environment, run the release hook. */
async function prepareFromArchive(ctx: HomeContext, state: State, records: InstanceRecord[], input: Readable): Promise<void> {
  const first = records[0]!;
  const firstDir = instanceDir(ctx.paths, first.id);
  ctx.reporter.line(`release ${first.release}: unpacking into deploy/${first.id}`);
  const unpacked = await step("unpack", async () => {
    // owner-only: the app's files (its .env above all) are never open to other users, even mid-unpack
    mkdirSync(firstDir, 0o700);
    const result = await unpackArchive(input, firstDir, {
      ...ctx.config.archive,
      onProgress: (bytes, entries) => ctx.reporter.progress(`unpacking: ${formatBytes(bytes)}, ${entries} entries`),
    });
    protectEnvFile(firstDir);
    return result;
  });
  ctx.reporter.line(`unpacked ${unpacked.entries} entries (${formatBytes(unpacked.bytes)})${unpacked.commit ? `, commit ${unpacked.commit}` : ""}`);

  const procfile = await step("procfile", () => readProcfile(firstDir));
  await step("procfile", () => {
    for (const record of records) {
      record.commit = unpacked.commit;
      record.command = commandFor(procfile, record.proc);
      if (record !== first) copyInstanceFolder(ctx, first, record);
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
}

/** The app's .env holds values (often secrets) and comes with the archive's mode: only the owner may read it. */
function protectEnvFile(dir: string): void {
  const file = join(dir, ".env");
  if (lstatSync(file, { throwIfNoEntry: false })?.isFile()) chmodSync(file, 0o600);
}

/** A copy of an instance's folder for another instance; `.venv` stays a link to the same immutable environment. */
export function copyInstanceFolder(ctx: HomeContext, from: InstanceRecord, to: InstanceRecord): void {
  cpSync(instanceDir(ctx.paths, from.id), instanceDir(ctx.paths, to.id), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}
