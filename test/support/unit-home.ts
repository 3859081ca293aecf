import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { loadConfig } from "../../src/home/config.js";
import type { HomeContext } from "../../src/home/context.js";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { instanceDir } from "../../src/instance/env.js";
import { readState, writeState, type InstanceState, type State } from "../../src/instance/state.js";
import { deploy, type DeployResult } from "../../src/release/deploy.js";
import { readHistory, type HistoryEntry } from "../../src/release/history.js";
import { step } from "../../src/release/steps.js";
import { newInstances, runRelease, type ReleasePlan, type ReleaseResult } from "../../src/release/transaction.js";
import { bindError } from "../../src/util/bind-check.js";
import type { SargeLog } from "../../src/util/sarge-log.js";
import { FakeRouter } from "./fake-router.js";
import { FakeSupervisor } from "./fake-supervisor.js";
import { buildTar } from "./tars.js";

/** A home on disk (etc/sarge.yaml, var/state.json, history, deploy/) whose supervisor and HAProxy are fakes: releases run in-process in milliseconds. */
export interface UnitHome {
  paths: HomePaths;
  ctx: HomeContext;
  supervisor: FakeSupervisor;
  router: FakeRouter;
  /** Every line reported to the user, in order. */
  lines: string[];
  /** A release like a deploy's, without an archive: new instances of `procs` in empty folders. */
  release(procs: string[]): Promise<ReleaseResult>;
  /** The same release stopped before its switch, as `deploy --stage`: its instances end staged. */
  stage(procs: string[]): Promise<ReleaseResult>;
  /** A real deploy of an archive holding `files` (by default a Procfile with a command per type of `procs`); its unpacking costs ~100 ms. */
  deploy(procs: string[], files?: Record<string, string>): Promise<DeployResult>;
  state(): State;
  /** State as a test compares it whole: each instance's state by id, the instance each route serves, the release under way. */
  summary(): StateSummary;
  /** Names of the programs the supervisor keeps running, sorted. */
  running(): Promise<string[]>;
  /** The folders under deploy/, sorted. */
  folders(): string[];
  history(): HistoryEntry[];
  /** A new supervisor and HAProxy, as after a reboot: nothing runs, nothing is routed. */
  reboot(): Promise<void>;
  destroy(): Promise<void>;
}

export interface StateSummary {
  lastRelease: number;
  instances: Record<string, InstanceState>;
  routes: Record<string, string | null>;
  pendingRelease: number | null;
}

export interface UnitHomeOptions {
  /** Process types with a stable port (default web and api). */
  routed?: string[];
  keepReleases?: number;
  /** How many instance ports (default 20). */
  portRangeSize?: number;
  /** health.timeout (default 5s); a type without a stable port counts as started once up this long (at most 1.5 s). */
  healthTimeout?: string;
}

/** On a tmpfs where there is one: a release writes state a dozen times, each with fsyncs that cost ~5 ms on a disk. */
const scratch = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

export async function createUnitHome(options: UnitHomeOptions = {}): Promise<UnitHome> {
  const paths = homePaths(mkdtempSync(join(scratch, "sarge-unit-")));
  for (const dir of [paths.etc, paths.deploy, paths.envs, paths.log, paths.run]) mkdirSync(dir, { recursive: true });
  const routed = options.routed ?? ["web", "api"];
  const range = await freeRange(options.portRangeSize ?? 20);
  writeFileSync(
    paths.config,
    [
      `port_range: [${range[0]}, ${range[1]}]`,
      "port_map:",
      // never bound: the router is a fake
      ...routed.map((proc, i) => `  ${proc}: 127.0.0.1:${range[0] - 1 - i}`),
      `keep_releases: ${options.keepReleases ?? 3}`,
      "health:",
      `  timeout: ${options.healthTimeout ?? "5s"}`,
    ].join("\n") + "\n",
  );
  const config = loadConfig(paths);
  const lines: string[] = [];
  const ignore = () => undefined;
  const log: SargeLog = { info: ignore, warn: ignore, error: ignore };
  const supervisor = new FakeSupervisor();
  const router = new FakeRouter(config.portMap);
  const ctx: HomeContext = { paths, config, supervisor, router, log, reporter: { line: (text) => lines.push(text), progress: ignore } };
  const plan = (procs: string[]): ReleasePlan => ({
    kind: "deploy",
    procs,
    command: `test release of ${procs.join(" ")}`,
    choose: (_state, release) => ({ instances: newInstances(ctx, procs, release) }),
    prepare: (records, state) =>
      step("prepare", () => {
        for (const record of records) {
          mkdirSync(instanceDir(paths, record.id));
          Object.assign(record, { command: `serve-${record.proc}`, commit: "c0ffee" });
        }
        writeState(paths, state);
      }),
  });
  const home: UnitHome = {
    paths,
    ctx,
    supervisor,
    router,
    lines,
    release: (procs) => runRelease(ctx, plan(procs)),
    stage: (procs) => runRelease(ctx, { ...plan(procs), kind: "stage", stage: true }),
    async deploy(procs, files = { Procfile: procs.map((proc) => `${proc}: serve-${proc}\n`).join("") }) {
      const archive = await buildTar(Object.entries(files).map(([name, content]) => ({ name, content })));
      return deploy(ctx, Readable.from(archive), procs);
    },
    state: () => readState(paths),
    summary: () => summarize(readState(paths)),
    running: async () => (await home.supervisor.status()).filter((program) => program.wanted).map((program) => program.name).sort(),
    folders: () => readdirSync(paths.deploy).sort(),
    history: () => readHistory(paths),
    async reboot() {
      await home.supervisor.shutdown();
      ctx.supervisor = home.supervisor = new FakeSupervisor();
      ctx.router = home.router = new FakeRouter(config.portMap);
    },
    async destroy() {
      await home.supervisor.shutdown();
      rmSync(paths.root, { recursive: true, force: true });
    },
  };
  return home;
}

function summarize(state: State): StateSummary {
  return {
    lastRelease: state.lastRelease,
    instances: Object.fromEntries(Object.values(state.instances).map((instance) => [instance.id, instance.state])),
    routes: Object.fromEntries(Object.entries(state.routes).map(([proc, route]) => [proc, route[route.active]])),
    pendingRelease: state.pendingRelease?.release ?? null,
  };
}

/**
 * Instance ports the fake programs will listen on, all free now: above the
 * kernel's ephemeral ports (to 60999) and the e2e homes' (below 32000), in
 * one of ~190 slots, so unit files running side by side rarely meet.
 */
const BLOCKS = Math.floor((65_535 - 61_004) / 24);
let nextBlock = randomInt(0, BLOCKS);

/**
 * A block of ports no home of this process had lately: get-port, which port
 * allocation uses, refuses for 15 s any port it returned before in the same
 * process, so a random block that repeated within a test file ran out.
 */
async function freeRange(size: number): Promise<[number, number]> {
  for (;;) {
    const low = 61_004 + 24 * (nextBlock++ % BLOCKS);
    const errors = await Promise.all(Array.from({ length: size }, (_, i) => bindError(low + i, "127.0.0.1")));
    if (errors.every((error) => error === null)) return [low, low + size - 1];
  }
}
