/**
 * `sarge export nomad --submit ADDR` (docs/nomad.md, "Submitting"): the release job first, until
 * its allocation completes, then the service job, following its deployment until Nomad calls it
 * successful, failed, or failed and rolled back (auto_revert).
 */
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import type { NomadApi } from "./api.js";
import { UPDATE, type NomadJob, type NomadJobs } from "./job.js";

const POLL_MS = 500;
/** The release hook runs once; past this, sarge stops waiting (Nomad keeps the job). */
const RELEASE_TIMEOUT_MS = 30 * 60_000;
/** Nomad fails a deployment itself at its progress deadline; a little longer covers the scheduler. */
const DEPLOYMENT_TIMEOUT_MS = UPDATE.progressDeadlineMs + 5 * 60_000;

interface Allocation {
  ID: string;
  JobVersion: number;
  ClientStatus: string;
  TaskStates?: Record<string, { Events?: Array<{ DisplayMessage?: string }> }> | null;
}

interface Deployment {
  ID: string;
  JobVersion: number;
  Status: string;
  StatusDescription: string;
}

const short = (id: string) => id.slice(0, 8);

export async function submitJobs(jobs: NomadJobs, api: NomadApi, report: (line: string) => void): Promise<void> {
  if (jobs.release) await runRelease(jobs.release, jobs.service, api, report);
  await deploy(jobs.service, api, report);
}

/** Register a job; returns the version Nomad gave it. */
async function register(job: NomadJob, api: NomadApi): Promise<number> {
  await api.post("/v1/jobs", { Job: job });
  const registered = await api.get<{ Version: number }>(`/v1/job/${encodeURIComponent(job.ID)}`);
  return registered.Version;
}

async function runRelease(release: NomadJob, service: NomadJob, api: NomadApi, report: (line: string) => void): Promise<void> {
  const version = await register(release, api);
  report(`nomad: registered ${release.ID} version ${version}: running the release hook`);
  const finished = await pollUntil(
    async () => {
      const allocations = await api.get<Allocation[]>(`/v1/job/${encodeURIComponent(release.ID)}/allocations`);
      return allocations.find((alloc) => alloc.JobVersion === version && ["complete", "failed", "lost"].includes(alloc.ClientStatus));
    },
    { timeoutMs: RELEASE_TIMEOUT_MS, intervalMs: POLL_MS },
  );
  const notSubmitted = `${service.ID} was not submitted: what Nomad runs is unchanged`;
  if (!finished) throw new SargeError(`the release job ${release.ID} did not finish within ${RELEASE_TIMEOUT_MS / 60_000} minutes; ${notSubmitted}`);
  if (finished.ClientStatus !== "complete") {
    const events = Object.values(finished.TaskStates ?? {}).flatMap((state) => state.Events ?? []);
    const last = events.map((event) => event.DisplayMessage).filter(Boolean).at(-1);
    throw new SargeError(
      `the release job ${release.ID} failed (allocation ${short(finished.ID)} ${finished.ClientStatus}${last ? `: ${last}` : ""}); ${notSubmitted}`,
    );
  }
  report(`nomad: release job ${release.ID} version ${version} complete (allocation ${short(finished.ID)})`);
}

async function deploy(service: NomadJob, api: NomadApi, report: (line: string) => void): Promise<void> {
  const version = await register(service, api);
  report(`nomad: registered ${service.ID} version ${version}: following its deployment`);
  const jobPath = `/v1/job/${encodeURIComponent(service.ID)}`;
  let seen = "";
  const outcome = await pollUntil(
    async () => {
      const latest = await api.get<Deployment | null>(`${jobPath}/deployment`);
      if (!latest || latest.JobVersion !== version) return undefined;
      const deployment = await api.get<Deployment>(`/v1/deployment/${encodeURIComponent(latest.ID)}`);
      const line = `nomad: deployment ${short(deployment.ID)} ${deployment.Status}${deployment.StatusDescription ? `: ${deployment.StatusDescription}` : ""}`;
      if (line !== seen) report((seen = line));
      return ["successful", "failed", "cancelled"].includes(deployment.Status) ? deployment : undefined;
    },
    { timeoutMs: DEPLOYMENT_TIMEOUT_MS, intervalMs: POLL_MS },
  );
  if (!outcome) throw new SargeError(`${service.ID} version ${version}: no finished deployment within ${DEPLOYMENT_TIMEOUT_MS / 60_000} minutes; see \`nomad job status ${service.ID}\``);
  if (outcome.Status === "successful") {
    report(`nomad: ${service.ID} version ${version} is deployed (deployment ${short(outcome.ID)} successful)`);
    return;
  }
  const reverted = /rolling back to job version (\d+)/.exec(outcome.StatusDescription);
  if (reverted) {
    throw new SargeError(
      `${service.ID} version ${version} failed its deployment (${outcome.StatusDescription}): auto-reverted, Nomad rolls the job back to version ${reverted[1]}`,
    );
  }
  throw new SargeError(`${service.ID} version ${version}: deployment ${short(outcome.ID)} ${outcome.Status}: ${outcome.StatusDescription || "no reason given"}`);
}
