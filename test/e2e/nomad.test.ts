/**
 * `sarge export nomad` end to end (docs/nomad.md): a real bundle of examples/hello made by `sarge bundle`
 * with its wheel built offline; the jobs written from it and a home's settings; `--submit` against a fake
 * Nomad API on loopback (Nomad itself is not installable here); and the bundle's launcher run as a Nomad
 * allocation would run it (task folder with `local/` holding the unpacked bundle, NOMAD_PORT_http set).
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";
import { helloDir } from "../support/apps.js";
import { makeCheckout } from "../support/checkout.js";
import { runSarge } from "../support/cli.js";
import { startFakeNomad, type FakeNomad } from "../support/fake-nomad.js";
import { get } from "../support/load.js";
import { freePortBlock } from "../support/ports.js";
import { waitFor } from "../support/wait.js";

let work: string;
let bundle: string;
let sha256: string;
let home: string;
const URL_ = "https://artifacts.example.com/hello.tar.gz";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sarge-nomad-e2e-"));
  const checkout = join(work, "hello");
  makeCheckout(checkout, { from: helloDir });
  const wheels = join(work, "wheels");
  mkdirSync(wheels);
  execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), wheels], { stdio: "ignore" });
  const made = await runSarge(["bundle", "--wheels", wheels, "-o", join(work, "bundles"), "--json"], { cwd: checkout });
  expect(made.code, made.stderr).toBe(0);
  ({ file: bundle, sha256 } = JSON.parse(made.stdout) as { file: string; sha256: string });
  home = join(work, "home");
  mkdirSync(join(home, "etc"), { recursive: true, mode: 0o755 });
  writeFileSync(
    join(home, "etc", "sarge.yaml"),
    "port_range: [21000, 21099]\nport_map:\n  web: 127.0.0.1:21200\nhealth:\n  http_path: /up\nenv:\n  MESSAGE: from nomad\nprocesses:\n  web:\n    stop_signal: QUIT\n    grace: 45s\n",
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const exportNomad = (args: string[], env: Record<string, string | undefined> = {}) =>
  runSarge(["export", "nomad", ...args], { cwd: work, env: { SARGE_HOME: undefined, NOMAD_TOKEN: undefined, ...env } });

type Job = { ID: string; Type: string; Meta: Record<string, string>; TaskGroups: Array<Record<string, any>> };
const readJob = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as { Job: Job }).Job;

describe("sarge export nomad", () => {
  it("writes the release job and the service job from the bundle and the home's settings (port_map, health, env, processes)", async () => {
    const out = join(work, "jobs");
    const result = await exportNomad(["--bundle", bundle, "--artifact-url", URL_, "-c", "web=2", "-o", out], { SARGE_HOME: home });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${join(out, "hello-release.nomad.json")}\n${join(out, "hello.nomad.json")}\n`);
    expect(readdirSync(out).sort()).toEqual(["hello-release.nomad.json", "hello.nomad.json"]);
    const service = readJob(join(out, "hello.nomad.json"));
    expect(service.Meta).toEqual({ sarge_bundle_sha256: sha256 });
    expect(service.TaskGroups.map((group) => [group.Name, group.Count])).toEqual([["web", 2]]);
    const [web] = service.TaskGroups;
    expect(web!.Services[0].Checks[0]).toMatchObject({ Type: "http", Path: "/up" });
    expect(web!.Tasks[0]).toMatchObject({
      Driver: "exec",
      Config: { command: "local/.sarge/run", args: ["web"] },
      Env: { MESSAGE: "from nomad", PORT: "${NOMAD_PORT_http}" },
      Artifacts: [{ GetterSource: URL_, GetterOptions: { checksum: `sha256:${sha256}` }, RelativeDest: "local/" }],
      KillSignal: "SIGQUIT",
      KillTimeout: 45_000_000_000,
    });
    const release = readJob(join(out, "hello-release.nomad.json"));
    expect([release.ID, release.Type, release.TaskGroups[0]!.Tasks[0].Config.args]).toEqual(["hello-release", "batch", ["release"]]);
  });

  it("names each input error", async () => {
    const cases: Array<[string[], string]> = [
      [["--bundle", bundle], "sarge: sarge export nomad needs --artifact-url URL: where Nomad's clients download the bundle from\n"],
      [["--bundle", bundle, "--artifact-url", "not a url"], 'sarge: --artifact-url: "not a url" is not an absolute URL (e.g. https://artifacts.example.com/hello-<commit>.tar.gz)\n'],
      [["--bundle", bundle, "--artifact-url", URL_, "-c", "web=1,worker=2"], 'sarge: --count: "worker" is not a process type of the Procfile, which defines web\n'],
      [["-d", join(work, "hello"), "--artifact-url", URL_], "sarge: sarge export nomad needs the bundle's sha256: give --bundle FILE (sarge computes it) or --sha256 HEX (as sarge bundle printed it)\n"],
      [["--bundle", bundle, "--artifact-url", URL_, "--sha256", "0".repeat(64)], `sarge: --sha256 ${"0".repeat(64)} is not the sum of ${bundle} (${sha256}): is it the bundle you uploaded?\n`],
      [["--bundle", join(work, "absent.tar.gz"), "--artifact-url", URL_], `sarge: --bundle: ${join(work, "absent.tar.gz")} does not exist\n`],
      [["--bundle", bundle, "--artifact-url", URL_, "--driver", "docker"], 'sarge: --driver: "docker" is not a driver sarge exports for; use exec or raw_exec\n'],
      [["--bundle", bundle, "--artifact-url", URL_, "--submit", "127.0.0.1:4646"], 'sarge: --submit: "127.0.0.1:4646" is not a Nomad address (e.g. http://127.0.0.1:4646)\n'],
      [["--bundle", bundle, "--artifact-url", URL_, "--submit", "ftp://nomad:4646"], 'sarge: --submit: "ftp://nomad:4646" is not a Nomad address: Nomad\'s API is http or https (e.g. http://127.0.0.1:4646)\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = await exportNomad(args);
      expect([result.code, result.stderr], args.join(" ")).toEqual([2, stderr]);
    }
  });

  it("reads the Procfile of -d with --sha256", async () => {
    const out = join(work, "from-dir");
    const result = await exportNomad(["-d", join(work, "hello"), "--sha256", sha256, "--artifact-url", URL_, "--name", "greeter", "-o", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readJob(join(out, "greeter.nomad.json")).Meta.sarge_bundle_sha256).toBe(sha256);
  });
});

describe("sarge export nomad --submit (a fake Nomad API)", () => {
  let nomad: FakeNomad;
  beforeAll(async () => {
    nomad = await startFakeNomad({ token: "s3cret" });
  });
  afterAll(() => nomad.close());

  const submit = (args: string[] = [], token: string | null = "s3cret") =>
    exportNomad(["--bundle", bundle, "--artifact-url", URL_, "--submit", nomad.url, ...args], { NOMAD_TOKEN: token ?? undefined });

  it("runs the release job first, then follows the deployment until it is successful", async () => {
    Object.assign(nomad.script, { release: "complete", deployment: "successful" });
    const result = await submit();
    expect(result.code, result.stderr).toBe(0);
    expect(nomad.submitted.map(({ job, token }) => [job.ID, token])).toEqual([["hello-release", "s3cret"], ["hello", "s3cret"]]);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("nomad: registered hello-release version 0: running the release hook");
    expect(lines[1]).toMatch(/^nomad: release job hello-release version 0 complete \(allocation [0-9a-f]{8}\)$/);
    expect(lines[2]).toBe("nomad: registered hello version 0: following its deployment");
    expect(lines[3]).toMatch(/^nomad: deployment [0-9a-f]{8} running: Deployment is running$/);
    expect(lines[4]).toMatch(/^nomad: deployment [0-9a-f]{8} successful: Deployment completed successfully$/);
    expect(lines[5]).toMatch(/^nomad: hello version 0 is deployed \(deployment [0-9a-f]{8} successful\)$/);
    expect(lines).toHaveLength(6);
  });

  it("says when the deployment failed and Nomad auto-reverted it (exit 1)", async () => {
    Object.assign(nomad.script, { release: "complete", deployment: "successful" });
    expect((await submit(["--name", "reverting"])).code).toBe(0);
    nomad.script.deployment = "auto-reverted";
    const result = await submit(["--name", "reverting", "-c", "web=3"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("nomad: registered reverting version 1: following its deployment\n");
    expect(result.stderr).toBe(
      "sarge: reverting version 1 failed its deployment (Failed due to unhealthy allocations - rolling back to job version 0): auto-reverted, Nomad rolls the job back to version 0\n",
    );
    const counts = nomad.jobVersions("reverting").map((job) => (job.TaskGroups as Array<{ Count: number }>)[0]!.Count);
    expect(counts).toEqual([1, 3, 1]);
  });

  it("says when the deployment failed without a revert (exit 1)", async () => {
    Object.assign(nomad.script, { release: "complete", deployment: "failed" });
    const result = await submit(["--name", "failing"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sarge: failing version 0: deployment [0-9a-f]{8} failed: Failed due to unhealthy allocations\n$/);
  });

  it("stops when the release job fails, and does not submit the service job", async () => {
    Object.assign(nomad.script, { release: "failed", deployment: "successful" });
    const before = nomad.submitted.length;
    const result = await submit(["--name", "other"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^sarge: the release job other-release failed \(allocation [0-9a-f]{8} failed: Exit Code: 1\); other was not submitted: what Nomad runs is unchanged\n$/,
    );
    expect(nomad.submitted.slice(before).map(({ job }) => job.ID)).toEqual(["other-release"]);
  });

  it("passes on Nomad's refusal of a missing token, and says when Nomad cannot be reached", async () => {
    const refused = await submit([], null);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `sarge: Nomad at ${nomad.url} answered 403 to POST /v1/jobs: Permission denied (set NOMAD_TOKEN to a token allowed to submit jobs)\n`,
    );
    const port = await freePortBlock(1);
    const unreachable = await exportNomad(["--bundle", bundle, "--artifact-url", URL_, "--submit", `http://127.0.0.1:${port}`]);
    expect([unreachable.code, unreachable.stderr]).toEqual([1, `sarge: cannot reach Nomad at http://127.0.0.1:${port} (POST /v1/jobs): ECONNREFUSED\n`]);
  });
});

describe("the bundle's launcher in a Nomad allocation", () => {
  it("builds the environment offline in local/ and serves on NOMAD_PORT_http; the release hook runs the same way", async () => {
    const taskDir = join(work, "alloc", "web");
    mkdirSync(join(taskDir, "local"), { recursive: true });
    execFileSync("tar", ["-xzf", bundle, "-C", join(taskDir, "local")]);
    const port = await freePortBlock(1);
    const { PORT: _port, ...base } = process.env;
    const env = { ...base, NOMAD_PORT_http: String(port), NOMAD_TASK_DIR: join(taskDir, "local"), MESSAGE: "on nomad", PIP_INDEX_URL: "http://127.0.0.1:9/" };
    const release = execFileSync("local/.sarge/run", ["release"], { cwd: taskDir, env, stdio: ["ignore", "pipe", "pipe"] }).toString();
    expect(release).toBe("greeting 1.0 is installed\n");
    const child = spawn("local/.sarge/run", ["web"], { cwd: taskDir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const body = await waitFor(() => get(port).catch(() => null), () => `the app on NOMAD_PORT_http ${port}: ${output}`, 120_000, 100);
      expect(body).toBe("on nomad -- greetings from sarge (v1, local)\n");
      expect(createHash("sha256").update(readFileSync(bundle)).digest("hex")).toBe(sha256);
    } finally {
      process.kill(-child.pid!, "SIGTERM");
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, "the launched app to stop", 30_000);
    }
  });
});
