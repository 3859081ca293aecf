import { chmodSync, cpSync, lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { unpackArchive, type UnpackResult } from "../archive/unpack.js";
import type { HomeContext } from "../home/context.js";
import { assertDeploysOpen } from "../home/deploy-freeze.js";
import { assertProcessType } from "../instance/id.js";
import { instanceDir } from "../instance/env.js";
import { readState, writeState, type InstanceRecord, type State } from "../instance/state.js";
import { commandFor, readProcfile, RELEASE_HOOK } from "../procfile/read.js";
import { prepareEnvironment } from "../python-env/index.js";
import { formatBytes } from "../util/format.js";
import type { ReleaseKind } from "./history.js";
import { incomingFolder } from "./incoming.js";
import { typesLeftBehind, type LeftBehind } from "./left-behind.js";
import { runReleaseHook } from "./release-hook.js";
import { releaseError, step } from "./steps.js";
import { newInstances, runRelease, type ReleaseResult } from "./transaction.js";

export interface DeployResult extends ReleaseResult {
  /** Active process types left on other code by this deploy. */
  leftBehind: LeftBehind[];
}

interface Received extends UnpackResult {
  dir: string;
}

/**
 * One archive becomes one new instance per process type. The archive is
 * received (unpacked and checked) before the home lock is taken, so a slow or
 * stalled upload holds nothing up; the release then prepares from that folder.
 * With `stage`, it stops before the switch: the instances stay staged (see
 * activate.ts).
 */
export interface DeployOptions {
  /** Everything but the switch (sarge deploy --stage). */
  stage?: boolean;
  /** Deploy through the deploy lock (`sarge lock`): an admin's choice. */
  force?: boolean;
  /** The release number the server's queue reserved (src/release/release-number.ts). */
  release?: number;
}

export async function deploy(ctx: HomeContext, input: Readable, requested: string[], options: DeployOptions = {}): Promise<DeployResult> {
  const procs = [...new Set(requested)];
  procs.forEach(assertProcessType);
  const kind = options.stage ? "stage" : "deploy";
  const force = options.force ?? false;
  assertDeploysOpen(ctx.paths, force);
  const received = await receive(ctx, input, kind);
  try {
    const result = await runRelease(ctx, {
      kind,
      stage: options.stage,
      procs,
      command: `sarge deploy ${options.stage ? "--stage " : ""}${procs.join(" ")}`,
      release: options.release,
      choose: (_state, release) => {
        // a lock placed while this deploy received its archive or waited for the deploy lock counts too
        assertDeploysOpen(ctx.paths, force);
        return { instances: newInstances(ctx, procs, release) };
      },
      prepare: (records, state) => prepareFromArchive(ctx, state, records, received),
    });
    return { ...result, leftBehind: typesLeftBehind(readState(ctx.paths), result) };
  } finally {
    rmSync(received.dir, { recursive: true, force: true });
  }
}

async function receive(ctx: HomeContext, input: Readable, kind: ReleaseKind): Promise<Received> {
  const dir = incomingFolder(ctx.paths);
  ctx.reporter.line(`receiving the archive into deploy/${basename(dir)}`);
  const cancel = ctx.cancel?.signal;
  // a cancel ends the upload: the unpack fails and the folder goes
  const stopReading = () => {
    // the unpack may have let go of the stream already: its error must not go unheard
    input.once("error", () => undefined);
    input.destroy(new Error("cancelled"));
  };
  cancel?.addEventListener("abort", stopReading, { once: true });
  try {
    const unpacked = await step(
      "unpack",
      async () => {
        // 0700 from the start: the app's files, .env among them, are never readable by other users
        mkdirSync(dir, { mode: 0o700 });
        const result = await unpackArchive(input, dir, {
          ...ctx.config.archive,
          onProgress: (bytes, entries) => ctx.reporter.progress(`unpacking: ${formatBytes(bytes)}, ${entries} entries`),
        });
        protectEnvFile(dir);
        return result;
      },
      cancel,
    );
    ctx.reporter.line(`unpacked ${unpacked.entries} entries (${formatBytes(unpacked.bytes)})${unpacked.commit ? `, commit ${unpacked.commit}` : ""}`);
    return { ...unpacked, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw releaseError(kind, error);
  } finally {
    cancel?.removeEventListener("abort", stopReading);
  }
}

/** Move the received folder into place (copies for further types), read the Procfile, build or reuse the environment, run the release hook. */
async function prepareFromArchive(ctx: HomeContext, state: State, records: InstanceRecord[], received: Received): Promise<void> {
  const first = records[0]!;
  const firstDir = instanceDir(ctx.paths, first.id);
  const cancel = ctx.cancel?.signal;
  await step("copy", () => {
    ctx.reporter.line(`release ${first.release}: deploy/${first.id} from the archive`);
    renameSync(received.dir, firstDir);
    for (const record of records.slice(1)) copyInstanceFolder(ctx, first, record);
  }, cancel);
  const procfile = await step("procfile", () => {
    const entries = readProcfile(firstDir);
    for (const record of records) Object.assign(record, { commit: received.commit, command: commandFor(entries, record.proc) });
    writeState(ctx.paths, state);
    return entries;
  }, cancel);

  await step("environment", async () => {
    for (const record of records) {
      const env = await prepareEnvironment({
        paths: ctx.paths,
        python: ctx.config.python,
        dist: ctx.config.dist,
        appDir: instanceDir(ctx.paths, record.id),
        log: (line) => ctx.log.info(line),
        warn: (line) => {
          if (record === first) ctx.reporter.line(`warning: ${line}`);
        },
        cancel,
      });
      record.envKey = env?.key ?? null;
      if (env && record === first) ctx.reporter.line(`environment ${env.key}: ${env.reused ? "reused, nothing installed" : "built"}`);
    }
    writeState(ctx.paths, state);
  }, cancel);

  const releaseEntry = procfile.find((entry) => entry.name === RELEASE_HOOK);
  if (releaseEntry) await step("release", () => runReleaseHook(ctx, first, releaseEntry.command), cancel);
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
