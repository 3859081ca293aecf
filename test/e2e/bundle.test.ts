/**
 * `sarge bundle` end to end (docs/bundles.md): a real git checkout of examples/hello, its wheel
 * built offline, real pip, a real home with HAProxy whose dist/ is empty, and the bundle's
 * launcher run in a fresh folder.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";
import { helloDir } from "../support/apps.js";
import { makeCheckout } from "../support/checkout.js";
import { runSarge } from "../support/cli.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { freePortBlock } from "../support/ports.js";
import { waitFor } from "../support/wait.js";
import { writeWheel } from "../support/wheels.js";

let work: string;
let checkout: string;
let commit: string;
let wheels: string;

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sarge-bundle-e2e-"));
  checkout = join(work, "hello");
  commit = makeCheckout(checkout, { from: helloDir });
  wheels = join(work, "wheels");
  mkdirSync(wheels);
  execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), wheels], { stdio: "ignore" });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function bundle(out: string, args: string[] = [], cwd = checkout) {
  return runSarge(["bundle", "--wheels", wheels, "-o", out, ...args], { cwd });
}

describe("sarge bundle", () => {
  it("writes <app>-<commit>.tar.gz with the code, the wheels, their sums and the launcher, and prints its sha256", async () => {
    const result = await bundle(join(work, "out1"));
    expect(result.code, result.stderr).toBe(0);
    const file = join(work, "out1", `hello-${commit}.tar.gz`);
    expect(result.stdout).toBe(`${file}\nsha256 ${sha256(file)}\n1 wheels, ${readFileSync(file).length} bytes, commit ${commit}\n`);
    const listing = execFileSync("tar", ["-tzf", file]).toString().split("\n").filter(Boolean);
    expect(listing).toEqual([
      "Procfile",
      "app.py",
      "requirements.txt",
      ".sarge/",
      ".sarge/install.txt",
      ".sarge/run",
      ".sarge/wheels.sha256",
      ".sarge/wheels/",
      ".sarge/wheels/greeting-1.0-py3-none-any.whl",
    ]);
    expect(execFileSync("tar", ["-xzOf", file, ".sarge/wheels.sha256"]).toString()).toBe(
      `${sha256(join(wheels, "greeting-1.0-py3-none-any.whl"))}  greeting-1.0-py3-none-any.whl\n`,
    );
  });

  it("gives the same bytes for the same commit and wheels (--json)", async () => {
    const [first, second] = [await bundle(join(work, "json1"), ["--json"]), await bundle(join(work, "json2"), ["--json"])];
    expect(first.code, first.stderr).toBe(0);
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)];
    expect(a).toMatchObject({ app: "hello", commit, wheels: ["greeting-1.0-py3-none-any.whl"], warning: null });
    expect(a.sha256).toBe(sha256(a.file));
    expect(b.sha256).toBe(a.sha256);
    expect(readFileSync(b.file).equals(readFileSync(a.file))).toBe(true);
  });

  it("names every missing wheel", async () => {
    const other = join(work, "missing");
    makeCheckout(other, { from: helloDir, files: { "requirements.txt": "greeting==1.0\nabsent-one\nabsent-two==2.0\n" } });
    const result = await bundle(join(work, "out-missing"), [], other);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`sarge: not in dist: absent-one, absent-two==2.0 — add the wheels to ${wheels} or build them with \`sarge wheel\``);
  });

  it("names a missing dependency with what needs it", async () => {
    const deps = join(work, "deps-wheels");
    await writeWheel(deps, { name: "needs-ghost", version: "1.0", requires: ["ghost>=1"] });
    const other = join(work, "deps");
    makeCheckout(other, { from: helloDir, files: { "requirements.txt": "needs-ghost\n" } });
    const result = await runSarge(["bundle", "--wheels", deps, "-o", join(work, "out-deps")], { cwd: other });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`sarge: not in dist: ghost>=1 (required by needs-ghost) — add the wheels to ${deps}`);
  });

  it("says where wheels come from, and that it needs a checkout", async () => {
    const noWheels = await runSarge(["bundle"], { cwd: checkout, env: { SARGE_HOME: undefined } });
    expect([noWheels.code, noWheels.stderr]).toEqual([
      2,
      "sarge: sarge bundle needs wheels: give --wheels DIR, or --home HOME to take them from that home's dist folder\n",
    ]);
    const plain = join(work, "plain");
    mkdirSync(plain);
    const notGit = await bundle(join(work, "out-plain"), [], plain);
    expect(notGit.code).toBe(1);
    expect(notGit.stderr).toContain(`sarge: sarge bundle works from a git checkout with a commit: ${plain} is not one`);
  });

  it("refuses a checkout that tracks .sarge/", async () => {
    const other = join(work, "tracked");
    makeCheckout(other, { from: helloDir, files: { ".sarge/notes": "mine\n" } });
    const result = await bundle(join(work, "out-tracked"), [], other);
    expect([result.code, result.stderr]).toEqual([
      1,
      "sarge: the checkout tracks .sarge/, where the bundle puts its wheels and launcher: rename it and commit\n",
    ]);
  });
});

describe("deploying a bundle on a home whose dist is empty", () => {
  const home = useDeployedHome({ withGreetingWheel: false, app: null });
  let file: string;

  beforeAll(async () => {
    const result = await bundle(join(work, "deploy"), ["--json"]);
    expect(result.code, result.stderr).toBe(0);
    file = JSON.parse(result.stdout).file;
  });

  it("installs from the bundle's wheels and serves", async () => {
    expect(execFileSync("ls", ["-A", home.paths.dist]).toString()).toBe("");
    const deploy = await home.sarge(["deploy", "-", "web"], { input: readFileSync(file) });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain(`commit ${commit}`);
    expect(await get(home.webPort)).toMatch(/^hello sarge! -- greetings from sarge \(v1, web-[a-z0-9]{6}\)\n$/);
  });

  it("refuses a tampered wheel inside the bundle, naming it, with no failed request and the live version untouched", async () => {
    const tree = join(work, "tampered");
    mkdirSync(tree);
    execFileSync("tar", ["-xzf", file, "-C", tree]);
    const wheel = join(tree, ".sarge", "wheels", "greeting-1.0-py3-none-any.whl");
    const original = sha256(wheel);
    await writeWheel(join(tree, ".sarge", "wheels"), { name: "greeting", version: "1.0", files: { "greeting/__init__.py": "import os\n" } });
    writeFileSync(join(tree, "app.py"), readFileSync(join(tree, "app.py"), "utf8").replace('VERSION = "v1"', 'VERSION = "v2"'));
    const tampered = execFileSync("tar", ["-czf", "-", "-C", tree, "."]);
    const before = await get(home.webPort);

    const load = startLoad(home.webPort, { workers: 4 });
    const deploy = await home.sarge(["deploy", "-", "web"], { input: tampered });
    await load.answered(50);
    const samples = await load.stop();

    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(
      `the bundle's wheels are not the ones it was made with, refusing to install: greeting-1.0-py3-none-any.whl: .sarge/wheels.sha256 expects sha256:${original}, found sha256:${sha256(wheel)}`,
    );
    expect(samples.filter((sample) => sample.error !== null).slice(0, 3)).toEqual([]);
    expect(samples.every((sample) => sample.body === before)).toBe(true);
    expect(await get(home.webPort)).toBe(before);
  });
});

describe("the bundle's launcher", () => {
  it("builds the environment offline from the bundle in a fresh folder and serves on $PORT", async () => {
    const result = await bundle(join(work, "launch"), ["--json"]);
    const folder = join(work, "alloc", "local");
    mkdirSync(folder, { recursive: true });
    execFileSync("tar", ["-xzf", JSON.parse(result.stdout).file, "-C", folder]);
    const port = await freePortBlock(1);
    const env = { ...process.env, PORT: String(port), MESSAGE: "from the launcher", PIP_FIND_LINKS: "/nowhere", PIP_INDEX_URL: "http://127.0.0.1:9/" };
    const child = spawn(join(folder, ".sarge", "run"), ["web"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const body = await waitFor(() => get(port).catch(() => null), () => `the app on ${port}: ${output}`, 120_000, 100);
      expect(body).toBe("from the launcher -- greetings from sarge (v1, local)\n");
      expect(output).toContain(".sarge/run: building the Python environment from the bundle's wheels");
      expect(readFileSync(join(folder, ".sarge", "venv", ".sarge-complete")).length).toBe(0);
    } finally {
      process.kill(-child.pid!, "SIGTERM");
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, "the launched app to stop", 30_000);
    }
  });

  it("names a process type the Procfile does not have", () => {
    const folder = join(work, "alloc", "local");
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(join(folder, ".sarge", "run"), ["worker"], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      failure = { status: (error as { status: number }).status, stderr: String((error as { stderr: Buffer }).stderr) };
    }
    expect(failure).toEqual({ status: 2, stderr: `.sarge/run: no process type "worker" in ${join(folder)}/Procfile\n` });
  });
});
