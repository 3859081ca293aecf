import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { waitFor } from "../support/wait.js";

/** How long the app's /slow route takes to answer: a request that legitimately runs this long. */
const SLOW_SECONDS = 20;

/** examples/hello with a /slow route that answers after SLOW_SECONDS, saying when it began. */
function slowApp(version: string): Buffer {
  return helloVersion(version, {
    "app.py": (old) =>
      old
        .replace(/VERSION = "v1"/, `VERSION = "${version}"`)
        .replace(
          '        if self.path == "/up":',
          `        if self.path == "/slow":\n            print("slow request began", flush=True)\n            import time\n            time.sleep(${SLOW_SECONDS})\n            body = f"slow answer from {VERSION}\\n".encode()\n        elif self.path == "/up":`,
        ),
  });
}

/** One GET on a connection of its own: its status and body, or the error that cut it. */
function slowRequest(port: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = httpGet({ host: "127.0.0.1", port, path: "/slow", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", (error) => resolve({ error: error.message }));
    });
    request.on("error", (error) => resolve({ error: error.message }));
  });
}

describe("a request in flight on the old version during a deploy", () => {
  const home = useDeployedHome({ app: slowApp("v1") });

  async function deployDuringSlowRequest(version: string) {
    const logOf = async () => (await home.sarge(["logs", "web", "-n", "20"])).stdout;
    const before = (await logOf()).split("slow request began").length;
    const answer = slowRequest(home.webPort);
    await waitFor(async () => (await logOf()).split("slow request began").length > before, "the slow request running on the old version", 30_000);
    const deploy = await home.sarge(["deploy", "-", "web"], { input: slowApp(version) });
    return { deploy, answer: await answer };
  }

  it(`completes with 200 within the default 30 s grace: a ${SLOW_SECONDS} s request`, async () => {
    const { deploy, answer } = await deployDuringSlowRequest("v2");
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(answer).toEqual({ status: 200, body: "slow answer from v1\n" });
    expect(deploy.stderr).not.toContain("drain bound");
  }, 120_000);

  it("is cut when the type's grace is shorter, and sarge.log says so", async () => {
    appendFileSync(home.paths.config, "processes:\n  web: {grace: 3s}\n");
    const { deploy, answer } = await deployDuringSlowRequest("v3");
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(readFileSync(join(home.paths.log, "sarge.log"), "utf8")).toContain("the old slot still had requests after the 3 s drain bound");
    expect(answer).not.toEqual({ status: 200, body: "slow answer from v2\n" });
  }, 120_000);
});

describe("limits of a process type (supervisord)", () => {
  const probe = [
    "import time",
    'nofile = [line for line in open("/proc/self/limits") if line.startswith("Max open files")][0]',
    'print("limit:", " ".join(nofile.split()), flush=True)',
    "try:",
    "    hog = bytearray(256 * 1024 * 1024)",
    '    print("allocated 256 MB", flush=True)',
    "except MemoryError:",
    '    print("MemoryError below 256 MB", flush=True)',
    "while True:",
    "    time.sleep(1)",
  ].join("\n");
  const home = useDeployedHome({
    supervisor: "supervisord",
    extraConfig: "processes:\n  probe:\n    limits: {nofile: 256, memory: 64MB}\n",
    app: helloVersion("v1", { Procfile: (old) => `${old}probe: python probe.py\n`, "probe.py": `${probe}\n` }),
    procs: ["web", "probe"],
  });

  it("a process sees its nofile limit and fails to allocate past its memory limit; another type has neither", async () => {
    const log = async (proc: string) => (await home.sarge(["logs", proc, "-n", "20"])).stdout;
    await waitFor(async () => (await log("probe")).includes("MemoryError"), "the probe's allocation", 30_000);
    const probeLog = await log("probe");
    expect(probeLog).toContain("limit: Max open files 256 256 files");
    expect(probeLog).toContain("MemoryError below 256 MB");
    const list = JSON.parse((await home.sarge(["list", "--json"])).stdout) as Array<{ proc: string; pid: number | null }>;
    const web = list.find((instance) => instance.proc === "web" && instance.pid);
    expect(web, JSON.stringify(list)).toBeDefined();
    expect(readFileSync(`/proc/${web!.pid}/limits`, "utf8")).not.toMatch(/^Max open files\s+256\s/m);
  });
});

describe("overlap: never (a singleton worker)", () => {
  const lockFile = join(tmpdir(), `sarge-singleton-${process.pid}-${Date.now()}`);
  const worker = [
    "import fcntl, os, time",
    'held = open(os.environ["SINGLETON"], "w")',
    "try:",
    "    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)",
    "except BlockingIOError:",
    '    print("another worker holds the lock", flush=True)',
    "    raise SystemExit(1)",
    'print("worker holds the lock", flush=True)',
    "while True:",
    "    time.sleep(1)",
  ].join("\n");
  const app = (version: string, command = "python worker.py") =>
    helloVersion(version, { Procfile: (old) => `${old}worker: ${command}\n`, "worker.py": `${worker}\n` });
  const home = useDeployedHome({ moreEnv: { SINGLETON: lockFile }, app: app("v1"), procs: ["web", "worker"] });
  afterAll(() => rmSync(lockFile, { force: true }));

  type Row = { id: string; proc: string; state: string; process: string; pid: number | null };
  const activeWorker = async () =>
    (JSON.parse((await home.sarge(["list", "--json"])).stdout) as Row[]).find((row) => row.proc === "worker" && row.state === "active")!;

  it("by default the new worker starts beside the old one (which here makes it fail)", async () => {
    const deploy = await home.sarge(["deploy", "-", "worker"], { input: app("v2") });
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain("another worker holds the lock");
  });

  it("stops the old worker before the new one starts", async () => {
    appendFileSync(home.paths.config, "processes:\n  worker: {overlap: never}\n");
    const old = await activeWorker();
    const deploy = await home.sarge(["deploy", "-", "worker"], { input: app("v3") });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toMatch(new RegExp(`${old.id}: stopping before worker-\\S+ starts \\(worker has overlap: never\\)`));
    const now = await activeWorker();
    expect(now.id).not.toBe(old.id);
    expect((await home.sarge(["logs", now.id])).stdout).toContain("worker holds the lock");
  });

  it("starts the old worker again when the new one fails", async () => {
    const old = await activeWorker();
    const deploy = await home.sarge(["deploy", "-", "worker"], { input: app("v4", "python nowhere.py") });
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain(`${old.id}: started again (the release that stopped it was undone)`);
    const after = await waitFor(async () => {
      const row = await activeWorker();
      return row.process === "running" ? row : undefined;
    }, "the old worker running again");
    expect(after.id).toBe(old.id);
    await waitFor(async () => (await home.sarge(["logs", old.id])).stdout.split("worker holds the lock").length === 3, "the old worker holding the lock again");
  });
});
