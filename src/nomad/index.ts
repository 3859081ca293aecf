/**
 * `sarge export nomad` (docs/nomad.md): a bundle made by `sarge bundle` as Nomad jobs in the HTTP
 * API's JSON — the app's service job, one task group per process type, and its release hook as a
 * batch job — written to files, or registered with `--submit` (submit.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { SargeConfig } from "../home/config-types.js";
import { RELEASE_HOOK } from "../procfile/read.js";
import { SargeError } from "../util/errors.js";
import { readAppSource } from "./app-source.js";
import { checkArtifactUrl, checkJobName, parseCounts, parseDatacenters, parseDriver } from "./inputs.js";
import { buildJobs, type NomadJob, type NomadJobs } from "./job.js";
import { nomadSettings } from "./settings.js";

export interface NomadExportOptions {
  /** The app folder whose Procfile is read when no --bundle is given. */
  dir: string;
  bundle?: string;
  sha256?: string;
  artifactUrl?: string;
  name?: string;
  count?: string;
  driver?: string;
  datacenters?: string;
  /** The home's settings, when a home was named (--home, $SARGE_HOME). */
  config: SargeConfig | null;
}

export async function makeNomadJobs(options: NomadExportOptions): Promise<NomadJobs> {
  const artifactUrl = checkArtifactUrl(options.artifactUrl);
  const driver = parseDriver(options.driver);
  const datacenters = parseDatacenters(options.datacenters);
  const source = await readAppSource(options);
  const processTypes = source.procfile.map((entry) => entry.name).filter((name) => name !== RELEASE_HOOK);
  if (processTypes.length === 0) throw new SargeError("the Procfile defines no process types to run on Nomad");
  return buildJobs({
    name: checkJobName(options.name ?? source.name),
    procfile: source.procfile,
    counts: parseCounts(options.count, processTypes),
    driver,
    datacenters,
    artifactUrl,
    sha256: source.sha256,
    settings: nomadSettings(options.config),
  });
}

/** What `POST /v1/jobs` and `nomad job run -json FILE` take. */
export function registerBody(job: NomadJob): string {
  return JSON.stringify({ Job: job }, null, 2) + "\n";
}

/** `<job>.nomad.json` for each job, release job first; returns the paths written. */
export function writeNomadJobs(jobs: NomadJobs, outDir: string): string[] {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  return [jobs.release, jobs.service]
    .filter((job): job is NomadJob => job !== null)
    .map((job) => {
      const file = join(dir, `${job.ID}.nomad.json`);
      writeFileSync(file, registerBody(job));
      return file;
    });
}
