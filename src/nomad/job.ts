import type { ProcfileEntry } from "../procfile/parse.js";
import { RELEASE_HOOK } from "../procfile/read.js";
import type { NomadDriver } from "./inputs.js";
import type { NomadSettings } from "./settings.js";

/** Nomad's API takes durations as integer nanoseconds. */
const ns = (ms: number): number => ms * 1_000_000;

/** The bundle's port label: the launcher reads NOMAD_PORT_http (templates/bundle/run.sh). */
export const PORT_LABEL = "http";
/** Where the artifact is unpacked in the allocation's task folder, and the launcher inside it. */
const BUNDLE_DIR = "local/";
const LAUNCHER = `${BUNDLE_DIR}.sarge/run`;

/** The update strategy: one allocation at a time, healthy by its checks, back to the last good version otherwise. */
export const UPDATE = {
  minHealthyTimeMs: 10_000,
  // generous: the first start of each allocation builds the Python environment from the bundle's wheels
  healthyDeadlineMs: 5 * 60_000,
  progressDeadlineMs: 10 * 60_000,
};
const CHECK_INTERVAL_MS = 10_000;
const CHECK_TIMEOUT_MS = 2_000;

export interface NomadJobInput {
  name: string;
  procfile: ProcfileEntry[];
  counts: Record<string, number>;
  driver: NomadDriver;
  datacenters: string[];
  artifactUrl: string;
  sha256: string;
  settings: NomadSettings;
}

/** A job in the HTTP API's JSON (what `POST /v1/jobs` takes as `Job`). */
export type NomadJob = Record<string, unknown> & { ID: string; Type: "service" | "batch" };

/** The app's service job and, when the Procfile has one, the batch job that runs its release hook first. */
export interface NomadJobs {
  release: NomadJob | null;
  service: NomadJob;
}

export function buildJobs(input: NomadJobInput): NomadJobs {
  const hook = input.procfile.some((entry) => entry.name === RELEASE_HOOK);
  return { release: hook ? releaseJob(input) : null, service: serviceJob(input) };
}

function serviceJob(input: NomadJobInput): NomadJob {
  const groups = input.procfile.filter((entry) => entry.name !== RELEASE_HOOK).map((entry) => serviceGroup(input, entry.name));
  return {
    ID: input.name,
    Name: input.name,
    Type: "service",
    Datacenters: input.datacenters,
    Meta: meta(input),
    Update: {
      MaxParallel: 1,
      HealthCheck: "checks",
      MinHealthyTime: ns(UPDATE.minHealthyTimeMs),
      HealthyDeadline: ns(UPDATE.healthyDeadlineMs),
      ProgressDeadline: ns(UPDATE.progressDeadlineMs),
      AutoRevert: true,
    },
    TaskGroups: groups,
  };
}

function serviceGroup(input: NomadJobInput, proc: string): Record<string, unknown> {
  return {
    Name: proc,
    Count: input.counts[proc] ?? 1,
    Networks: [{ DynamicPorts: [{ Label: PORT_LABEL }] }],
    Services: input.settings.routed.includes(proc) ? [service(input, proc)] : null,
    Tasks: [task(input, proc, { ...input.settings.env, PORT: `\${NOMAD_PORT_${PORT_LABEL}}` })],
  };
}

/** sarge's readiness check as a Nomad service check: HTTP on health.http_path, else TCP. */
function service(input: NomadJobInput, proc: string): Record<string, unknown> {
  const { httpPath } = input.settings;
  const check = httpPath === null ? { Type: "tcp" } : { Type: "http", Path: httpPath, Method: "GET" };
  return {
    Name: `${input.name}-${proc}`,
    Provider: "nomad",
    PortLabel: PORT_LABEL,
    Checks: [{ Name: `${proc} ready`, ...check, Interval: ns(CHECK_INTERVAL_MS), Timeout: ns(CHECK_TIMEOUT_MS) }],
  };
}

/** The release hook once per bundle: a batch job that is not retried, so a failed migration stops the release. */
function releaseJob(input: NomadJobInput): NomadJob {
  return {
    ID: `${input.name}-${RELEASE_HOOK}`,
    Name: `${input.name}-${RELEASE_HOOK}`,
    Type: "batch",
    Datacenters: input.datacenters,
    Meta: meta(input),
    TaskGroups: [
      {
        Name: RELEASE_HOOK,
        Count: 1,
        RestartPolicy: { Attempts: 0, Mode: "fail" },
        ReschedulePolicy: { Attempts: 0, Unlimited: false },
        Tasks: [task(input, RELEASE_HOOK, { ...input.settings.env })],
      },
    ],
  };
}

function task(input: NomadJobInput, proc: string, env: Record<string, string>): Record<string, unknown> {
  const stop = input.settings.stop(proc);
  const memoryMb = input.settings.memoryMb(proc);
  return {
    Name: proc,
    Driver: input.driver,
    Config: { command: LAUNCHER, args: [proc] },
    Env: env,
    Artifacts: [{ GetterSource: input.artifactUrl, GetterOptions: { checksum: `sha256:${input.sha256}` }, RelativeDest: BUNDLE_DIR }],
    KillSignal: stop.signal,
    KillTimeout: ns(stop.timeoutMs),
    ...(memoryMb === null ? {} : { Resources: { MemoryMB: memoryMb } }),
  };
}

/** The bundle's sum in the job: a new bundle is a new job version (and its release job runs again). */
function meta(input: NomadJobInput): Record<string, string> {
  return { sarge_bundle_sha256: input.sha256 };
}
