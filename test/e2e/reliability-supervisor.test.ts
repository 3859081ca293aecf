import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloVersion } from "../support/apps.js";
import { deployPausedAt, deployingIds, expectNoLeftovers, failuresOf, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { instanceOf, now, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";

interface ListRow {
  id: string;
  state: string;
  process: string;
  pid: number | null;
  port: number;
  restarts: number;
}

/**
 * The processes sarge relies on die: the supervisor daemon in the middle of
 * a deploy, HAProxy under load, and the app itself, which then keeps
 * crashing at start.
 */
describe("the supervisor, HAProxy or the app die", () => {
  // The app crashes at start (like a lost database) while the file crash-flag is in its folder.
  const procfile = 'web: if [ -e crash-flag ]; then echo "boom: cannot reach the database"; exit 1; fi; exec python app.py\n';
  const home = useDeployedHome({ app: helloVersion("stable", { Procfile: procfile }) });
  let active: string;
  beforeAll(() => {
    active = Object.keys(readState(home.paths).instances)[0]!;
  });

  const list = async (): Promise<ListRow[]> => JSON.parse((await home.sarge(["list", "--json"])).stdout) as ListRow[];
  const programs = () =>
    (JSON.parse(readFileSync(join(home.paths.run, "supervisor-programs.json"), "utf8")) as { programs: Array<{ spec: { name: string }; pid: number | null; startedAt: string | null }> })
      .programs;
  const pidOf = (name: string) => programs().find((program) => program.spec.name === name)!.pid!;
  const supervisorOutput = () => readFileSync(join(home.paths.log, "supervisord.out"), "utf8");

  it("supervisor SIGKILLed mid-deploy and restarted: programs adopted untouched, the deploy goes on, 0 failed requests", async () => {
    const haproxyPid = pidOf("haproxy");
    const appPid = pidOf(active);
    const load = startLoad(home.webPort, { workers: 2 });
    const deploy = await deployPausedAt(home, "readiness", helloVersion("v2"));
    const [halfMade] = deployingIds(readState(home.paths));
    const daemonPid = Number(readFileSync(join(home.paths.run, "supervisor.pid"), "utf8"));
    process.kill(daemonPid, "SIGKILL");
    await waitFor(() => !isAlive(daemonPid), "the supervisor to be gone", 5_000);
    // while no supervisor runs, sarge says so and shows what state.json says
    const down = await home.sarge(["status"]);
    const notRunning = `sarge: supervisor not running: this is what var/state.json says, process states unknown; start it with ${home.root}/bin/supervisord\n`;
    expect([down.code, down.stderr]).toEqual([3, notRunning]);
    expect(down.stdout).toMatch(new RegExp(`\nweb +${active} +127\\.0\\.0\\.1:${home.webPort} +\\d+ +unknown +0 +unknown\n$`));
    const listed = await home.sarge(["list"]);
    expect([listed.code, listed.stderr]).toEqual([3, notRunning]);
    expect(listed.stdout).toMatch(new RegExp(`\n${active} +web +active +unknown +\\d+ +1 `));
    expect(listed.stdout).toMatch(new RegExp(`\n${halfMade} +web +deploying +unknown `));
    await home.startSupervisor();
    await waitFor(
      () => [`adopted ${active} (pid ${appPid})`, `adopted haproxy (pid ${haproxyPid})`].every((line) => supervisorOutput().includes(line)),
      "the app and HAProxy to be adopted",
      10_000,
    );
    // the deploy goes on against the new daemon
    deploy.signal("SIGUSR2");
    const { code } = await deploy.done;
    const next = await home.sarge(["list"]);
    await load.answered(10);
    const samples = await load.stop();
    console.log(`supervisor SIGKILL, restarted: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    expect(failuresOf(samples)).toEqual([]);
    expect(pidOf("haproxy")).toBe(haproxyPid);
    expect(code, deploy.stderr).toBe(0);
    expect(plainLines(deploy.stderr)).toContain(`web: 127.0.0.1:${home.webPort} now routes to ${halfMade}`);
    expect(plainLines(next.stderr)).toBe("");
    expect(new Set(samples.map((sample) => instanceOf(sample.body)))).toEqual(new Set([active, halfMade]));
    await expectNoLeftovers(home);
    // back to the crashing-capable version for the next cases
    const rollback = await home.sarge(["rollback", "web"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    await expectNoLeftovers(home);
  });

  it("supervisor SIGKILLed and still down when the deploy goes on: the deploy fails saying so, the next command after the restart cleans up", async () => {
    const load = startLoad(home.webPort, { workers: 2 });
    const deploy = await deployPausedAt(home, "switch", helloVersion("v3"));
    const [halfMade] = deployingIds(readState(home.paths));
    const daemonPid = Number(readFileSync(join(home.paths.run, "supervisor.pid"), "utf8"));
    process.kill(daemonPid, "SIGKILL");
    await waitFor(() => !isAlive(daemonPid), "the supervisor to be gone", 5_000);
    deploy.signal("SIGUSR2");
    const { code } = await deploy.done;
    const down = `supervisor is not running; start it with ${home.root}/bin/supervisord`;
    expect(code).toBe(1);
    expect(plainLines(deploy.stderr)).toContain(
      [
        "sarge: resumed at step switch",
        `web: could not make sure it routes to ${active} (${down}); the next sarge command will`,
        `sarge: deploy failed at switch: ${down}`,
        "",
      ].join("\n"),
    );
    await home.startSupervisor();
    const next = await home.sarge(["list"]);
    await load.answered(10);
    const samples = await load.stop();
    console.log(`supervisor SIGKILL, still down: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    expect(plainLines(next.stderr)).toBe(`cleaning up ${halfMade}, left half-made by an interrupted deploy\n`);
    expect(failuresOf(samples)).toEqual([]);
    expect(new Set(samples.map((sample) => instanceOf(sample.body)))).toEqual(new Set([active]));
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ outcome: string; error?: string; instances: string[] }>;
    expect(history.at(-1)).toMatchObject({ outcome: "failed", error: `deploy failed at switch: ${down}`, instances: [halfMade] });
    await expectNoLeftovers(home);
  });

  it("HAProxy SIGKILLed under load: the supervisor restarts it, the same instance answers; failures only while it is down", async () => {
    const haproxyPid = pidOf("haproxy");
    // a HAProxy that has been up a while (10 s) is restarted at once; only one dying right after its start waits a backoff
    const upSince = Date.parse(programs().find((program) => program.spec.name === "haproxy")!.startedAt!);
    await sleep(Math.max(0, upSince + 10_500 - Date.now()));
    const load = startLoad(home.webPort, { workers: 2 });
    await load.answered(20);
    const killedAt = now();
    process.kill(haproxyPid, "SIGKILL");
    await waitFor(() => programs().some((program) => program.spec.name === "haproxy" && program.pid !== null && program.pid !== haproxyPid), "HAProxy to run again", 15_000);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${home.webPort}/`).then((r) => r.ok).catch(() => false)), "the stable port to answer", 15_000);
    const backAt = now();
    await load.answered(40);
    const samples = await load.stop();
    const failures = failuresOf(samples);
    const outageMs = backAt - killedAt;
    console.log(`HAProxy SIGKILL: ${failures.length} failed of ${samples.length} requests; stable port back after ${outageMs} ms`);
    expect(failures.filter((failure) => failure.end < killedAt || failure.at > backAt)).toEqual([]);
    expect(outageMs).toBeLessThan(3_000);
    expect(new Set(samples.map((sample) => instanceOf(sample.body)))).toEqual(new Set([active, null]));
    expect(samples.filter((sample) => sample.start > backAt).every((sample) => instanceOf(sample.body) === active)).toBe(true);
    const status = await home.sarge(["status", "--json"]);
    expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ proc: "web", active, healthy: true })]);
    await expectNoLeftovers(home);
  });

  it("an app that starts crashing: restarted with backoff, FAILING with its last log lines in sarge status", async () => {
    writeFileSync(join(home.paths.deploy, active, "crash-flag"), "");
    const row = (await list()).find((instance) => instance.id === active)!;
    const load = startLoad(home.webPort, { workers: 2 });
    const crashedAt = now();
    process.kill(-row.pid!, "SIGKILL");
    // 1 s, 2 s, 4 s...: within 8 s at most 3 restarts (a supervisor without backoff would make hundreds)
    await sleep(8_000);
    const looping = (await list()).find((instance) => instance.id === active)!;
    expect(looping.restarts).toBeGreaterThanOrEqual(2);
    expect(looping.restarts).toBeLessThanOrEqual(4);
    expect(looping.process).toMatch(/^(backoff|starting)$/);
    const status = await home.sarge(["status"]);
    expect(status.stdout).toMatch(new RegExp(`^web +${active} +127\\.0\\.0\\.1:${home.webPort} +\\d+ +(backoff|starting) +${looping.restarts} +FAILING\\n`, "m"));
    expect(status.stdout).toContain(`${active} last log lines:\n`);
    expect(status.stdout).toContain("  boom: cannot reach the database\n");
    // fixed: the operator starts it at once instead of waiting for the next backoff
    rmSync(join(home.paths.deploy, active, "crash-flag"));
    const start = await home.sarge(["start", active]);
    expect(start.stdout, start.stderr).toBe(`${active}: started on port ${looping.port}\n`);
    await waitFor(async () => JSON.parse((await home.sarge(["status", "--json"])).stdout)[0].healthy === true, "web to be healthy again", 15_000);
    const recoveredAt = now();
    await load.answered(20);
    const samples = await load.stop();
    console.log(`crash loop: ${failuresOf(samples).length} failed of ${samples.length} requests; ${looping.restarts} restarts in 8 s`);
    expect(failuresOf(samples).filter((failure) => failure.end < crashedAt || failure.at > recoveredAt)).toEqual([]);
    expect(samples.filter((sample) => sample.start > recoveredAt).every((sample) => instanceOf(sample.body) === active)).toBe(true);
    await expectNoLeftovers(home);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
