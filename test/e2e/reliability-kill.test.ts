import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloArchive, helloVersion } from "../support/apps.js";
import { deployingIds, deployPausedAt, expectNoLeftovers, failuresOf, killDeployAt, pausedLine, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { processesUsing } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

/**
 * SIGKILL of `sarge deploy` (and `sarge rollback`) before each step of the
 * release (SARGE_PAUSE_AT) and in the middle of some. Load runs on the stable
 * port through each case: not one request may fail. The next command (`sarge
 * list`) removes what the dead release left and says so.
 */

const cleaningUp = (id: string | undefined) => `cleaning up ${id}, left half-made by an interrupted deploy\\n`;
const removingUpload = "removing deploy/\\.incoming-[\\d-]+[0-9a-f]+, which no instance owns\\n";

/**
 * Each step a deploy can be stopped before (in order: the archive is received
 * before the lock), how many half-made instances it leaves, and what the next
 * command says it cleans up.
 */
const steps: Array<[string, number, (halfMade: string[]) => RegExp]> = [
  ["unpack", 0, () => /^$/],
  ["lock", 0, () => new RegExp(`^${removingUpload}$`)],
  ["copy", 1, ([id]) => new RegExp(`^${cleaningUp(id)}${removingUpload}$`)],
  ...["procfile", "environment", "release", "port", "start", "readiness", "switch"].map(
    (step): [string, number, (halfMade: string[]) => RegExp] => [step, 1, ([id]) => new RegExp(`^${cleaningUp(id)}$`)],
  ),
];

describe("SIGKILL of sarge deploy at each step", () => {
  const home = useDeployedHome({ app: helloVersion("stable") });
  let serving: string;
  beforeAll(async () => {
    serving = await get(home.webPort);
  });

  async function expectServingUntouched(active: string) {
    const body = await get(home.webPort);
    expect(body).toBe(serving);
    expect(body).toMatch(new RegExp(`\\(stable, ${active}\\)\\n$`));
    const state = readState(home.paths);
    expect(Object.values(state.instances).map((instance) => [instance.id, instance.state])).toEqual([[active, "active"]]);
  }

  it.each(steps)("before %s: what the deploy made (%i instance) is removed by the next command, its port freed", async (step, made, recovery) => {
    const result = await killDeployAt(home, step, helloVersion("killed"));
    expect(result.halfMade).toHaveLength(made);
    expect(result.recovery).toMatch(recovery(result.halfMade));
    expect(result.failures).toEqual([]);
    expect(result.samples).toBeGreaterThan(20);
    expect([...result.servedBy]).toEqual([result.active]);
    await expectNoLeftovers(home, result.ports);
    await expectServingUntouched(result.active);
  });

  it("in the middle of unpacking (half the archive streamed): the partial folder is removed, and a rollback never waited for it", async () => {
    const active = Object.keys(readState(home.paths).instances)[0]!;
    const load = startLoad(home.webPort, { workers: 2 });
    // hello plus 4 MiB of data: half of it is sent, then sarge waits for the rest
    const archive = helloArchive({ "data.bin": "x".repeat(4 * 1024 * 1024) });
    const deploy = home.spawn(["deploy", "-", "web"], { input: archive.subarray(0, archive.length / 2), keepStdinOpen: true });
    const [, incoming] = await deploy.waitForStderr(/receiving the archive into deploy\/(\.incoming-[\d-]+[0-9a-f]+)/);
    const folder = join(home.paths.deploy, incoming!);
    await waitFor(() => existsSync(folder) && readdirSync(folder).length > 0, "the first entries unpacked", 10_000);
    // the stalled upload holds no lock: a rollback goes ahead and fails only for want of a kept instance
    const rollback = await home.sarge(["rollback", "web"]);
    expect(plainLines(rollback.stderr)).toMatch(new RegExp(`^sarge: no kept web instance to roll back to \\(${active} is active\\)\\n`));
    expect(deployingIds(readState(home.paths))).toEqual([]);
    await deploy.kill();
    const list = await home.sarge(["list"]);
    const samples = await load.stop();
    console.log(`SIGKILL mid-unpack: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    expect(plainLines(list.stderr)).toBe(`removing deploy/${incoming}, which no instance owns\n`);
    expect(failuresOf(samples)).toEqual([]);
    expect(new Set(samples.map((sample) => sample.instance))).toEqual(new Set([active]));
    await expectNoLeftovers(home);
    await expectServingUntouched(active);
  });

  it("while the release hook runs: the hook's processes are stopped too", async () => {
    const active = Object.keys(readState(home.paths).instances)[0]!;
    const load = startLoad(home.webPort, { workers: 2 });
    const archive = helloVersion("slow-release", { Procfile: "web: python app.py\nrelease: echo migrating; sleep 47\n" });
    const deploy = home.spawn(["deploy", "-", "web"], { input: archive });
    await waitFor(() => processesUsing(home.paths.deploy).some((p) => p.cmdline === "sleep 47"), "the release hook to run");
    const [halfMade] = deployingIds(readState(home.paths));
    await deploy.kill();
    const list = await home.sarge(["list"]);
    const samples = await load.stop();
    console.log(`SIGKILL during the release hook: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    const stopped = (command: string) => `stopping pid \\d+ \\(${command}\\), left running for ${halfMade} by an interrupted deploy\\n`;
    expect(plainLines(list.stderr)).toMatch(
      new RegExp(`^cleaning up ${halfMade}, left half-made by an interrupted deploy\\n(${stopped("/bin/sh -c echo migrating; sleep 47")})?${stopped("sleep 47")}$`),
    );
    expect(failuresOf(samples)).toEqual([]);
    await expectNoLeftovers(home);
    expect(processesUsing(home.root).filter((p) => p.cmdline.includes("sleep 47"))).toEqual([]);
    await expectServingUntouched(active);
  });

  it("in the switch, both slots serving: routed back to the old instance, then the new one removed", async () => {
    const result = await killDeployAt(home, "switch-drain", helloVersion("killed"));
    expect(result.halfMade).toHaveLength(1);
    expect(result.recovery).toBe(
      `web: routed back to its active instance after an interrupted deploy\ncleaning up ${result.halfMade[0]}, left half-made by an interrupted deploy\n`,
    );
    expect(result.failures).toEqual([]);
    // while the deploy was stopped both slots took requests: the half-made instance answered some
    expect([...result.servedBy].sort()).toEqual([result.active, ...result.halfMade].sort());
    await expectNoLeftovers(home, result.ports);
    await expectServingUntouched(result.active);
  });

  it("the next deploy after all these kills succeeds; history shows each killed release as interrupted", async () => {
    const result = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("after") });
    expect(result.code, result.stderr).toBe(0);
    expect(plainLines(result.stderr)).not.toContain("cleaning up");
    expect(await get(home.webPort)).toMatch(/\(after, web-/);
    expect(readdirSync(home.paths.deploy)).toHaveLength(2);
    // each killed deploy used up a release number; recovery recorded it as interrupted
    const { release } = JSON.parse(result.stdout) as { release: number };
    expect(release).toBe(readState(home.paths).lastRelease);
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ release: number; outcome: string; error?: string }>;
    expect(history.map((entry) => entry.release)).toEqual(Array.from({ length: release }, (_, index) => index + 1));
    expect(history[0]!.outcome).toBe("success");
    expect(history.at(-1)!.outcome).toBe("success");
    for (const entry of history.slice(1, -1)) {
      expect(entry).toMatchObject({ outcome: "failed", error: expect.stringMatching(/^interrupted: sarge was stopped before the release finished/) });
    }
  });
});

describe("SIGKILL of sarge deploy and rollback after the switch", () => {
  const home = useDeployedHome({ app: helloVersion("stable") });

  it("after the switch, before retire: the new version serves, the next command stops the old one and keeps it", async () => {
    const result = await killDeployAt(home, "retire", helloVersion("new"));
    const state = readState(home.paths);
    const next = Object.values(state.instances).find((instance) => instance.state === "active")!;
    expect(result.halfMade).toEqual([]);
    expect(result.recovery).toBe(`stopping ${result.active}, replaced by an interrupted deploy but still running\n`);
    expect(result.failures).toEqual([]);
    expect([...result.servedBy].sort()).toEqual([result.active, next.id].sort());
    expect(state.instances[result.active]!.state).toBe("kept");
    const list = JSON.parse((await home.sarge(["list", "--json"])).stdout) as Array<{ id: string; state: string; process: string }>;
    expect(list.map(({ id, state, process }) => [id, state, process]).sort()).toEqual(
      [
        [next.id, "active", expect.stringMatching(/^(starting|running)$/)],
        [result.active, "kept", "stopped"],
      ].sort(),
    );
    await expectNoLeftovers(home);
    expect(await get(home.webPort)).toMatch(new RegExp(`\\(new, ${next.id}\\)\\n$`));
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ release: number; outcome: string; instances: string[]; detail?: string[] }>;
    expect(history.find((entry) => entry.release === next.release)).toMatchObject({
      outcome: "success",
      instances: [next.id],
      detail: ["finished by recovery after sarge was stopped during retire"],
    });
    // and a rollback to the replaced instance works as after any deploy
    const rollback = await home.sarge(["rollback", "web"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await get(home.webPort)).toMatch(new RegExp(`\\(stable, ${result.active}\\)\\n$`));
  });

  it.each([
    ["switch", "failed", "undone by recovery"],
    ["retire", "success", "finished by recovery after sarge was stopped during retire"],
  ])("a rollback killed before %s: the next command records it as %s", async (step, outcome, how) => {
    const before = readState(home.paths);
    const rollback = home.spawn(["rollback", "web"], { env: { SARGE_PAUSE_AT: step } });
    await rollback.waitForStderr(pausedLine(step));
    await rollback.kill();
    const list = await home.sarge(["list"]);
    expect(list.code, list.stderr).toBe(0);
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ release: number; kind: string; outcome: string; detail: string[] }>;
    expect(history.map((entry) => entry.release)).toEqual(Array.from({ length: before.lastRelease + 1 }, (_, index) => index + 1));
    expect(history.at(-1)).toMatchObject({ release: before.lastRelease + 1, kind: "rollback", outcome });
    expect(history.at(-1)!.detail.at(-1)).toBe(how);
    const active = Object.values(readState(home.paths).instances).find((instance) => instance.state === "active")!;
    expect(await get(home.webPort)).toContain(`, ${active.id})`);
    await expectNoLeftovers(home);
  });
});

describe("SIGKILL of a two-type deploy between its switches", () => {
  const withApi = (version: string) => helloVersion(version, { Procfile: (old) => `${old}api: python app.py\n` });
  const home = useDeployedHome({ moreRoutes: ["api"], app: withApi("stable"), procs: ["web", "api"] });

  it("api switched, web in its switch: both are routed back and the whole release is removed", async () => {
    const apiPort = home.webPort + 1;
    const before = readState(home.paths);
    const stable = Object.fromEntries(Object.values(before.instances).map((instance) => [instance.proc, instance.id]));
    const loads = [startLoad(home.webPort, { workers: 2 }), startLoad(apiPort, { workers: 2 })];
    const deploy = await deployPausedAt(home, "switch-drain#2", withApi("killed"), ["api", "web"]);
    const switched = readState(home.paths);
    const made = Object.values(switched.instances).filter((instance) => instance.release === 2);
    const newApi = made.find((instance) => instance.proc === "api")!;
    expect(newApi.state).toBe("active");
    expect(await get(apiPort)).toMatch(new RegExp(`\\(killed, ${newApi.id}\\)\\n$`));
    await deploy.kill();
    const list = await home.sarge(["list"]);
    // requests sent after the cleanup too
    await Promise.all(loads.map((load) => load.answered(10)));
    const samples = await Promise.all(loads.map((load) => load.stop()));
    expect(list.code, list.stderr).toBe(0);
    expect(plainLines(list.stderr).split("\n").filter(Boolean).sort()).toEqual(
      [
        `api: back to ${stable.api}; release 2 was interrupted before every process type switched`,
        "web: routed back to its active instance after an interrupted deploy",
        "api: routed back to its active instance after an interrupted deploy",
        ...made.map((instance) => `cleaning up ${instance.id}, left half-made by an interrupted deploy`),
      ].sort(),
    );
    for (const load of samples) expect(failuresOf(load)).toEqual([]);
    expect(await get(home.webPort)).toMatch(new RegExp(`\\(stable, ${stable.web}\\)\\n$`));
    expect(await get(apiPort)).toMatch(new RegExp(`\\(stable, ${stable.api}\\)\\n$`));
    expect(Object.values(readState(home.paths).instances).map((instance) => [instance.id, instance.state]).sort()).toEqual(
      [[stable.web, "active"], [stable.api, "active"]].sort(),
    );
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ release: number; outcome: string }>;
    expect(history.at(-1)).toMatchObject({ release: 2, outcome: "failed" });
    await expectNoLeftovers(home);
  });
});
