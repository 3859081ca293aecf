/**
 * sarge upgrade (src/home/upgrade.ts): a home switched to another sarge and
 * back, with the builtin supervisor handing its programs over, under load on
 * the stable port.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireHomeLock } from "../../src/release/lock.js";
import { connectBuiltin } from "../../src/supervise/builtin/client.js";
import { launcherScriptPath } from "../../src/supervise/supervisord/config.js";
import { isSameProcessAlive, processStartTime } from "../../src/util/process-alive.js";
import { sargeVersion } from "../../src/util/version.js";
import { anotherSarge } from "../support/another-sarge.js";
import { runSarge } from "../support/cli.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";

describe("sarge upgrade", () => {
  const home = useDeployedHome();
  const work = mkdtempSync(join(tmpdir(), "sarge-upgrade-"));
  const next = anotherSarge(join(work, "next"), `${sargeVersion()}.next`);
  const third = anotherSarge(join(work, "third"), `${sargeVersion()}.third`);
  const wrapper = () => ({ bin: join(home.paths.bin, "sarge") });

  afterAll(async () => {
    await stopDaemon();
    rmSync(work, { recursive: true, force: true });
  });

  /** The daemon now serving the home and the pid of each program. */
  async function supervised(): Promise<{ pid: number; version: string | null; programs: Record<string, number | null> }> {
    const client = await connectBuiltin(home.paths);
    try {
      const { pid, version } = await client.daemon();
      return { pid, version, programs: Object.fromEntries((await client.status()).map((program) => [program.name, program.pid])) };
    } finally {
      await client.close();
    }
  }

  /** A daemon that took over is not the test's child: SIGTERM it and wait until it is gone. */
  async function stopDaemon(): Promise<void> {
    await home.stopSupervisor();
    const { pid } = await supervised().catch(() => ({ pid: null }));
    if (pid === null) return;
    const startTime = processStartTime(pid);
    process.kill(pid, "SIGTERM");
    await waitFor(() => !isSameProcessAlive(pid, startTime), `the supervisor (pid ${pid}) to stop`, 90_000);
  }

  it("--undo with nothing to go back to says so", async () => {
    const result = await runSarge(["upgrade", "--undo"], wrapper());
    expect([result.code, result.stderr]).toEqual([1, `sarge: nothing to undo: ${home.paths.opt} has no previous sarge (sarge upgrade keeps the one it replaces)\n`]);
  });

  it("is refused while a release runs (the deploy lock is held)", async () => {
    const lock = await acquireHomeLock(home.paths, "deploy (test)", { waiting: () => undefined, takeover: () => undefined });
    try {
      const result = await runSarge(["upgrade", "--home", home.root], { bin: next.bin });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^sarge: cannot upgrade while a release runs: the home is locked by pid ${process.pid} \\(\\w+: deploy \\(test\\), since .*\\)\\n  Run sarge upgrade again once it is done\\.\\n$`));
    } finally {
      lock.release();
    }
    expect(readdirSync(home.paths.opt).sort()).toEqual(["current", `sarge-${sargeVersion()}`]);
  });

  it("switches the home under load: no failed request, a new supervisor, every app process the same", async () => {
    const before = await supervised();
    expect(before.version).toBe(sargeVersion());
    const load = startLoad(home.webPort, { workers: 4 });
    await load.answered(20);
    const result = await runSarge(["upgrade", "--home", home.root], { bin: next.bin });
    await load.answered(20);
    const samples = await load.stop();
    expect(result.code, result.stderr).toBe(0);
    const after = await supervised();
    expect(result.stdout).toBe(`${home.root}: sarge ${sargeVersion()} -> ${next.version}\n  supervisor restarted onto it (pid ${before.pid} -> ${after.pid}); every app kept running\n`);
    expect(samples.filter((sample) => sample.error !== null)).toEqual([]);
    expect(after.pid).not.toBe(before.pid);
    expect(after.version).toBe(next.version);
    expect(after.programs).toEqual(before.programs);
    expect((await runSarge(["--version"], wrapper())).stdout).toBe(`sarge ${next.version}\n`);
  });

  it("a CLI of another version says which versions run and what fixes it, and still answers", async () => {
    const list = await runSarge(["--home", home.root, "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toBe(`sarge: the supervisor runs sarge ${next.version}, this is sarge ${sargeVersion()}; run \`sarge upgrade\` (or restart the supervisor)\n`);
    expect(list.stdout).toMatch(/^INSTANCE .*\nweb-\w+ +web +active +running /);
  });

  it("keeps two copies, and --undo goes back to the previous one", async () => {
    const before = await supervised();
    const upgrade = await runSarge(["upgrade", "--home", home.root, "--json"], { bin: third.bin });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(JSON.parse(upgrade.stdout)).toMatchObject({ sarge_version: third.version, from: next.version, to: third.version, removed: [`sarge-${sargeVersion()}`] });
    expect(readdirSync(home.paths.opt).sort()).toEqual(["current", "previous", `sarge-${next.version}`, `sarge-${third.version}`].sort());

    const undo = await runSarge(["upgrade", "--undo"], wrapper());
    expect(undo.code, undo.stderr).toBe(0);
    const after = await supervised();
    expect(undo.stdout).toMatch(new RegExp(`^${home.root}: sarge ${third.version.replace(/[.+]/g, "\\$&")} -> ${next.version.replace(/[.+]/g, "\\$&")}\\n  supervisor restarted onto it`));
    expect([after.version, after.programs]).toEqual([next.version, before.programs]);
    expect(readFileSync(join(home.paths.bin, "supervisord"), "utf8")).toContain(join(home.paths.opt, "current", "bin", "sarge"));
  });

  it("says how to start the supervisor when the new one does not come up, and every app keeps serving", async () => {
    const broken = anotherSarge(join(work, "broken"), `${sargeVersion()}.broken`);
    writeFileSync(join(work, "broken", "templates", "bin-supervisord.hbs"), "#!/bin/sh\nexit 1\n");
    const before = await supervised();
    const result = await runSarge(["upgrade", "--home", home.root], { bin: broken.bin });
    expect([result.code, result.stderr]).toEqual([
      1,
      `sarge: the supervisor (pid ${before.pid}) handed over, but no supervisor of sarge ${broken.version} answered within 30 s\n  Every app keeps running. Start the supervisor with ${home.paths.bin}/supervisord: it adopts them.\n`,
    ]);
    expect(await get(home.webPort)).toMatch(/greetings from sarge \(v1, web-/);
    const undo = await runSarge(["upgrade", "--undo"], { bin: next.bin, env: { SARGE_HOME: home.root } });
    // the failed upgrade stopped before removing copies: the third one goes now
    expect([undo.code, undo.stdout]).toEqual([
      0,
      `${home.root}: sarge ${broken.version} -> ${next.version}\n  supervisor not running: it runs this sarge once started\n  removed opt/sarge-${third.version}\n`,
    ]);
    await home.startSupervisor();
    expect((await supervised()).programs).toEqual(before.programs);
  });
});

describe("sarge upgrade with the supervisord backend", () => {
  const home = useDeployedHome({ supervisor: "supervisord" });
  const work = mkdtempSync(join(tmpdir(), "sarge-upgrade-sd-"));
  const next = anotherSarge(join(work, "next"), `${sargeVersion()}.next`);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("renders supervisord's launcher and restarter with the new copy; supervisord and every app keep running", async () => {
    const launcher = launcherScriptPath(home.paths);
    const pids = async () => (JSON.parse((await home.sarge(["list", "--json"])).stdout) as Array<{ id: string; pid: number }>).map(({ id, pid }) => [id, pid]);
    const before = { pids: await pids(), launcher: statSync(launcher).mtimeMs, supervisord: home.supervisorPid() };
    const load = startLoad(home.webPort, { workers: 2 });
    await load.answered(10);
    const result = await runSarge(["upgrade", "--home", home.root], { bin: next.bin });
    await load.answered(10);
    const samples = await load.stop();
    expect([result.code, result.stdout]).toEqual([0, `${home.root}: sarge ${sargeVersion()} -> ${next.version}\n  supervisord's launcher and restarter rendered again\n`]);
    expect(samples.filter((sample) => sample.error !== null)).toEqual([]);
    expect(statSync(launcher).mtimeMs).toBeGreaterThan(before.launcher);
    expect([await pids(), home.supervisorPid()]).toEqual([before.pids, before.supervisord]);
  });
});
