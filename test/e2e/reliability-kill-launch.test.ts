import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloVersion } from "../support/apps.js";
import { setTimeout as sleep } from "node:timers/promises";
import { deployPausedAt, expectNoLeftovers, failuresOf, killDeployAt, pausedLine, plainLines, spawnSarge } from "../support/crash.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get, startLoad } from "../support/load.js";

/**
 * SIGKILL of `sarge deploy` once the new instance exists: before it gets a
 * port, before it starts, while it starts, before the switch, in the middle
 * of the switch (new slot ready, old one not drained yet), and after the
 * switch before the old instance is stopped. Load runs on the stable port
 * through each case: not one request may fail.
 */
describe("SIGKILL of sarge deploy while it launches and switches the new instance", () => {
  let home: TestHome;
  beforeAll(async () => {
    home = await createTestHome();
    await home.startSupervisor();
    const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion("stable") });
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    expect(await home.destroy()).toEqual([]);
  });

  async function expectStillServing(active: string) {
    expect(await get(home.webPort)).toMatch(new RegExp(`\\(stable, ${active}\\)\\n$`));
    const state = readState(home.paths);
    expect(Object.values(state.instances).map((instance) => [instance.id, instance.state])).toEqual([[active, "active"]]);
  }

  it.each(["port", "start", "readiness", "switch"])("before %s: the half-made instance is removed, its port freed", async (step) => {
    const result = await killDeployAt(home, step, helloVersion("killed"));
    expect(result.halfMade).toHaveLength(1);
    expect(result.recovery).toBe(`cleaning up ${result.halfMade[0]}, left half-made by an interrupted deploy\n`);
    expect(result.failures).toEqual([]);
    expect(result.samples).toBeGreaterThan(20);
    expect([...result.servedBy]).toEqual([result.active]);
    await expectNoLeftovers(home, result.ports);
    await expectStillServing(result.active);
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
    await expectStillServing(result.active);
  });

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
    const rollback = spawnSarge(home, ["rollback", "web"], { env: { SARGE_PAUSE_AT: step } });
    await rollback.waitFor(pausedLine(step));
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
  let home: TestHome;
  const withApi = (version: string) => helloVersion(version, { Procfile: (old) => `${old}api: python app.py\n` });
  beforeAll(async () => {
    home = await createTestHome({ moreRoutes: ["api"] });
    await home.startSupervisor();
    const first = await home.sarge(["deploy", "-", "web", "api"], { input: withApi("stable") });
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    expect(await home.destroy()).toEqual([]);
  });

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
    await sleep(200);
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
