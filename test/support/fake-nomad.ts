/**
 * A fake of Nomad's HTTP API on 127.0.0.1, written from its documentation (developer.hashicorp.com
 * /nomad/api-docs: jobs, allocations, deployments), for `sarge export nomad --submit`. It records
 * every submitted job and plays scripted states: each read of an allocation or a deployment moves
 * it one step on, so a test sees running before the outcome without waiting on a clock.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { freePortBlock } from "./ports.js";

type Job = Record<string, unknown> & { ID: string; Type: string };

/** What the next release allocation and the next service deployment do. */
export interface FakeNomadScript {
  release: "complete" | "failed";
  /** auto-reverted: failed, then Nomad registers the previous version again and deploys it. */
  deployment: "successful" | "failed" | "auto-reverted";
}

interface Allocation {
  ID: string;
  JobID: string;
  JobVersion: number;
  ClientStatus: string;
  TaskStates: Record<string, { State: string; Failed: boolean; Events: Array<{ Type: string; DisplayMessage: string }> }> | null;
  steps: Array<Pick<Allocation, "ClientStatus" | "TaskStates">>;
}

interface Deployment {
  ID: string;
  JobID: string;
  JobVersion: number;
  Status: string;
  StatusDescription: string;
  steps: Array<{ Status: string; StatusDescription: string; then?: () => void }>;
}

export interface Submission {
  job: Job;
  token: string | undefined;
}

export class FakeNomad {
  readonly submitted: Submission[] = [];
  readonly script: FakeNomadScript = { release: "complete", deployment: "successful" };
  private readonly versions = new Map<string, Job[]>();
  private readonly allocations: Allocation[] = [];
  private readonly deployments: Deployment[] = [];

  constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  /** The versions Nomad holds for a job, oldest first (Version is the index). */
  jobVersions(id: string): Job[] {
    return this.versions.get(id) ?? [];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": status === 200 ? "application/json" : "text/plain" });
      res.end(status === 200 ? JSON.stringify(value) : String(value));
    };
    const token = req.headers["x-nomad-token"] as string | undefined;
    if (this.token !== undefined && token !== this.token) return send(403, "Permission denied");
    const path = new URL(req.url ?? "/", this.url).pathname;
    let match: RegExpExecArray | null;
    if (path === "/v1/jobs" && (req.method === "POST" || req.method === "PUT")) {
      const job = (JSON.parse(body) as { Job: Job }).Job;
      this.submitted.push({ job, token });
      return send(200, this.register(job));
    }
    if (req.method !== "GET") return send(405, "Invalid method");
    if ((match = /^\/v1\/job\/([^/]+)$/.exec(path))) {
      const versions = this.jobVersions(decodeURIComponent(match[1]!));
      return versions.length === 0 ? send(404, "job not found") : send(200, { ...versions.at(-1), Version: versions.length - 1 });
    }
    if ((match = /^\/v1\/job\/([^/]+)\/allocations$/.exec(path))) {
      const id = decodeURIComponent(match[1]!);
      return send(200, this.allocations.filter((alloc) => alloc.JobID === id).map((alloc) => advance(alloc)));
    }
    if ((match = /^\/v1\/job\/([^/]+)\/deployment$/.exec(path))) {
      const id = decodeURIComponent(match[1]!);
      const latest = this.deployments.filter((deployment) => deployment.JobID === id).at(-1);
      return send(200, latest ? view(latest) : null);
    }
    if ((match = /^\/v1\/deployment\/([^/]+)$/.exec(path))) {
      const deployment = this.deployments.find((candidate) => candidate.ID === match![1]);
      return deployment ? send(200, view(advance(deployment))) : send(404, "deployment not found");
    }
    send(404, "Invalid URL");
  }

  /** As Nomad: an unchanged job keeps its version; a changed one gets the next, and is scheduled. */
  private register(job: Job): Record<string, unknown> {
    const versions = this.versions.get(job.ID) ?? [];
    this.versions.set(job.ID, versions);
    if (versions.length === 0 || JSON.stringify(versions.at(-1)) !== JSON.stringify(job)) {
      versions.push(job);
      if (job.Type === "batch") this.allocate(job.ID, versions.length - 1);
      else this.deploy(job.ID, versions.length - 1);
    }
    return { EvalID: randomUUID(), EvalCreateIndex: versions.length + 10, JobModifyIndex: versions.length + 10, Warnings: "" };
  }

  private allocate(jobId: string, version: number): void {
    const failed = this.script.release === "failed";
    const task = (State: string, Failed: boolean, DisplayMessage: string) => ({ release: { State, Failed, Events: [{ Type: State, DisplayMessage }] } });
    this.allocations.push({
      ID: randomUUID(),
      JobID: jobId,
      JobVersion: version,
      ClientStatus: "pending",
      TaskStates: null,
      steps: [
        { ClientStatus: "running", TaskStates: task("running", false, "Task started by client") },
        failed
          ? { ClientStatus: "failed", TaskStates: task("dead", true, "Exit Code: 1") }
          : { ClientStatus: "complete", TaskStates: task("dead", false, "Exit Code: 0") },
      ],
    });
  }

  private deploy(jobId: string, version: number): void {
    const running = { Status: "running", StatusDescription: "Deployment is running" };
    const outcome = {
      successful: [running, { Status: "successful", StatusDescription: "Deployment completed successfully" }],
      failed: [{ Status: "failed", StatusDescription: "Failed due to unhealthy allocations" }],
      "auto-reverted": [
        {
          Status: "failed",
          StatusDescription: `Failed due to unhealthy allocations - rolling back to job version ${version - 1}`,
          then: () => this.revert(jobId, version - 1),
        },
      ],
    }[this.script.deployment];
    this.deployments.push({ ID: randomUUID(), JobID: jobId, JobVersion: version, ...running, steps: [running, ...outcome] });
  }

  /** Nomad's auto_revert: the earlier version registered again as a new version, deployed as usual. */
  private revert(jobId: string, to: number): void {
    const versions = this.versions.get(jobId)!;
    versions.push(versions[to]!);
    const running = { Status: "running", StatusDescription: "Deployment is running" };
    this.deployments.push({
      ID: randomUUID(),
      JobID: jobId,
      JobVersion: versions.length - 1,
      ...running,
      steps: [{ Status: "successful", StatusDescription: "Deployment completed successfully" }],
    });
  }
}

function advance<T extends { steps: Array<Record<string, unknown> & { then?: () => void }> }>(item: T): T {
  const next = item.steps.shift();
  if (next) {
    const { then, ...fields } = next;
    Object.assign(item, fields);
    then?.();
  }
  return item;
}

function view(deployment: Deployment) {
  const { steps: _steps, ...fields } = deployment;
  return fields;
}

/** A fake Nomad on 127.0.0.1; with `token`, every request must carry it as X-Nomad-Token (else 403, as Nomad's ACLs). */
export async function startFakeNomad(options: { token?: string } = {}): Promise<FakeNomad> {
  const port = await freePortBlock(1);
  let fake: FakeNomad | undefined;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => fake!.handle(req, body, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  fake = new FakeNomad(server, `http://127.0.0.1:${port}`, options.token);
  return fake;
}
