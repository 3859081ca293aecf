/** The Nomad jobs `sarge export nomad` writes (docs/nomad.md), against golden files in test/fixtures/nomad/. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registerBody } from "../../../src/nomad/index.js";
import { checkArtifactUrl, checkJobName, checkSha256, parseCounts, parseDatacenters, parseDriver } from "../../../src/nomad/inputs.js";
import { buildJobs, type NomadJobInput } from "../../../src/nomad/job.js";
import { nomadSettings } from "../../../src/nomad/settings.js";
import type { SargeConfig } from "../../../src/home/config-types.js";
import { packageRoot } from "../../../src/util/package-root.js";

const golden = (name: string) => readFileSync(join(packageRoot, "test", "fixtures", "nomad", name), "utf8");
const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

const input = (overrides: Partial<NomadJobInput> = {}): NomadJobInput => ({
  name: "hello",
  procfile: [
    { name: "release", command: "python manage.py migrate" },
    { name: "web", command: "python app.py" },
    { name: "worker", command: "python worker.py" },
  ],
  counts: { web: 2, worker: 1 },
  driver: "exec",
  datacenters: ["dc1"],
  artifactUrl: "https://artifacts.example.com/hello-0123.tar.gz",
  sha256: SHA,
  settings: nomadSettings({
    portMap: { web: { host: "127.0.0.1", port: 8000 } },
    health: { timeoutMs: 30_000, httpPath: "/healthz" },
    env: { MESSAGE: "hi" },
    processes: { worker: { stopSignal: "SIGINT", stopTo: "main", graceMs: 120_000, limits: { nofile: null, memoryBytes: 600 * 1024 * 1024 + 1 } } },
  } as unknown as SargeConfig),
  ...overrides,
});

describe("the Nomad jobs", () => {
  it("service job: a group per process type, counts, dynamic port as PORT, the artifact with its sha256, the HTTP check, the update block, kill settings and memory per type (processes:)", () => {
    expect(registerBody(buildJobs(input()).service)).toBe(golden("hello.nomad.json"));
  });

  it("the release hook is a batch job that is not retried", () => {
    expect(registerBody(buildJobs(input()).release!)).toBe(golden("hello-release.nomad.json"));
  });

  it("without a release hook there is no release job; without health.http_path the check is TCP; raw_exec on request", () => {
    const jobs = buildJobs(input({ procfile: [{ name: "web", command: "x" }], driver: "raw_exec", settings: nomadSettings(null) }));
    expect(jobs.release).toBeNull();
    const [group] = jobs.service.TaskGroups as Array<{ Services: Array<{ Checks: unknown[] }>; Tasks: Array<{ Driver: string; Env: unknown }> }>;
    expect(group!.Services[0]!.Checks).toEqual([{ Name: "web ready", Type: "tcp", Interval: 10_000_000_000, Timeout: 2_000_000_000 }]);
    expect(group!.Tasks[0]!.Driver).toBe("raw_exec");
    expect(group!.Tasks[0]!.Env).toEqual({ PORT: "${NOMAD_PORT_http}" });
  });
});

describe("the export's inputs", () => {
  it("--count: default 1 each; a name not in the Procfile, or a malformed item, is refused naming it", () => {
    expect(parseCounts(undefined, ["web", "worker"])).toEqual({ web: 1, worker: 1 });
    expect(parseCounts("web=3, worker=0", ["web", "worker"])).toEqual({ web: 3, worker: 0 });
    expect(() => parseCounts("web=2,db=1", ["web", "worker"])).toThrow('--count: "db" is not a process type of the Procfile, which defines web, worker');
    expect(() => parseCounts("release=1", ["web"])).toThrow('--count: "release" is not a process type of the Procfile, which defines web');
    expect(() => parseCounts("web:2", ["web"])).toThrow('--count: "web:2" is not <process type>=<number> (e.g. --count web=2,worker=1)');
  });

  it("--artifact-url must be an absolute http, https, s3 or gcs URL", () => {
    expect(checkArtifactUrl("s3://bucket/hello.tar.gz")).toBe("s3://bucket/hello.tar.gz");
    expect(() => checkArtifactUrl(undefined)).toThrow("sarge export nomad needs --artifact-url URL: where Nomad's clients download the bundle from");
    expect(() => checkArtifactUrl("hello.tar.gz")).toThrow('--artifact-url: "hello.tar.gz" is not an absolute URL');
    expect(() => checkArtifactUrl("ftp://host/x.tar.gz")).toThrow('--artifact-url: "ftp://host/x.tar.gz": Nomad fetches bundles over http, https, s3, gcs, not ftp');
  });

  it("--sha256, --driver, --name, --datacenters", () => {
    expect(checkSha256(SHA.toUpperCase())).toBe(SHA);
    expect(() => checkSha256("abc")).toThrow('--sha256: "abc" is not a sha256 (64 hex digits, as sarge bundle prints it)');
    expect(parseDriver(undefined)).toBe("exec");
    expect(() => parseDriver("docker")).toThrow('--driver: "docker" is not a driver sarge exports for; use exec or raw_exec');
    expect(() => checkJobName("my app")).toThrow('--name: "my app" is not a usable Nomad job ID');
    expect(parseDatacenters(undefined)).toEqual(["*"]);
    expect(parseDatacenters("dc1, dc2")).toEqual(["dc1", "dc2"]);
    expect(() => parseDatacenters("dc1,,dc2")).toThrow('--datacenters: "dc1,,dc2" has an empty name');
  });
});
