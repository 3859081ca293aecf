import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { readProcStat, runningProcStat } from "../../src/util/proc-stat.js";
import { helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf } from "../support/crash.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { instanceOf, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";

interface ListRow {
  id: string;
  pid: number | null;
}

/**
 * supervisord SIGKILLed under load: HAProxy and the app keep serving while it
 * is dead, and the supervisord started again adopts them (same pids, one
 * HAProxy) instead of starting them a second time.
 */
describe("supervisord dies", () => {
  let home: TestHome;
  beforeAll(async () => {
    home = await createTestHome({ supervisor: "supervisord" });
    await home.startSupervisor();
    const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v1") });
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    expect(await home.destroy()).toEqual([]);
  });

  const alive = (pid: number) => runningProcStat(pid) !== null;
  const haproxyMasters = () => readFileSync(home.paths.haproxyPid, "utf8").trim();

  it("SIGKILLed under load: HAProxy and the app keep serving, then are adopted untouched; a deploy after that retires the adopted app", async () => {
    const active = Object.keys(readState(home.paths).instances)[0]!;
    const appPid = (JSON.parse((await home.sarge(["list", "--json"])).stdout) as ListRow[]).find((row) => row.id === active)!.pid!;
    const haproxyPid = Number(haproxyMasters());
    const supervisordPid = Number(readFileSync(join(home.paths.run, "supervisord.pid"), "utf8"));
    const load = startLoad(home.webPort, { workers: 2 });
    await waitFor(() => load.samples.length >= 50, "the load runs", 10_000);
    process.kill(supervisordPid, "SIGKILL");
    await waitFor(() => readProcStat(supervisordPid) === null, "supervisord is gone (reaped: its socket closed)", 5_000);
    const killedAt = Date.now();
    const servedWhileDead = () => load.samples.filter((sample) => sample.start > killedAt).length;
    await waitFor(() => servedWhileDead() >= 300 || failuresOf(load.samples).length > 0, "300 requests while supervisord is dead", 20_000);
    const [failedWhileDead, sentWhileDead] = [failuresOf(load.samples).length, servedWhileDead()];
    expect([alive(haproxyPid), alive(appPid)]).toEqual([true, true]);

    await home.startSupervisor();
    await waitFor(async () => (await home.sarge(["status"])).code === 0, "sarge status is ok again", 20_000);
    const after = JSON.parse((await home.sarge(["list", "--json"])).stdout) as ListRow[];
    expect(after.find((row) => row.id === active)!.pid).toBe(appPid);
    expect(haproxyMasters()).toBe(String(haproxyPid));
    expect([alive(haproxyPid), alive(appPid)]).toEqual([true, true]);

    const deploy = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v2") });
    expect(deploy.code, deploy.stderr).toBe(0);
    await waitFor(() => !alive(appPid), "the adopted app is stopped when it is retired", 15_000);
    const samples = await load.stop();
    console.log(`supervisord SIGKILL: ${failedWhileDead} failed of ${sentWhileDead} while it was dead; ${failuresOf(samples).length} failed of ${samples.length} in all`);
    expect(failuresOf(samples)).toEqual([]);
    expect(new Set(samples.map((sample) => instanceOf(sample.body))).has(active)).toBe(true);
    expect(alive(haproxyPid)).toBe(true);
    await expectNoLeftovers(home);
  });

  it("while a killed supervisord's programs still run, switching the home to the builtin supervisor is refused, naming them", async () => {
    const supervisordPid = Number(readFileSync(join(home.paths.run, "supervisord.pid"), "utf8"));
    process.kill(supervisordPid, "SIGKILL");
    await waitFor(() => readProcStat(supervisordPid) === null, "supervisord is gone (reaped: its socket closed)", 5_000);
    const config = readFileSync(home.paths.config, "utf8");
    writeFileSync(home.paths.config, config.replace(/^supervisor: supervisord$/m, "supervisor: builtin"));
    const refused = await home.sarge(["supervisord"], { timeoutMs: 20_000 });
    writeFileSync(home.paths.config, config);
    const active = Object.keys(readState(home.paths).instances).find((id) => readState(home.paths).instances[id]!.state === "active")!;
    expect([refused.code, refused.stderr.split("\n")[0]]).toEqual([
      1,
      `sarge: cannot start the builtin supervisor: programs still run under the supervisord supervisor (${["haproxy", active].sort().join(", ")})`,
    ]);
    expect(refused.stderr).toContain("one that was killed left them running: start it again, it takes them back, then stop it");
    await home.startSupervisor();
    const status = await home.sarge(["status"]);
    expect(status.code, status.stderr).toBe(0);
  });
});
