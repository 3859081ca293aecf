import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloArchive, helloVersion } from "../support/apps.js";
import { deployingIds, expectNoLeftovers, failuresOf, killDeployAt, plainLines, spawnSarge, waitUntil } from "../support/crash.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { instanceOf, startLoad } from "../support/load.js";
import { processesUsing } from "../support/processes.js";

/**
 * SIGKILL of `sarge deploy` before each step that prepares the new instance
 * (SARGE_PAUSE_AT), and in the middle of two of them. The version that was
 * serving keeps answering every request; the next command (`sarge list`)
 * removes what the dead deploy left and says so.
 */
describe("SIGKILL of sarge deploy while it prepares the new instance", () => {
  let home: TestHome;
  let serving: string;
  beforeAll(async () => {
    home = await createTestHome();
    await home.startSupervisor();
    const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion("stable") });
    expect(first.code, first.stderr).toBe(0);
    serving = await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text();
  });
  afterAll(async () => {
    expect(await home.destroy()).toEqual([]);
  });

  async function expectServingUntouched(active: string) {
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toBe(serving);
    const state = readState(home.paths);
    expect(Object.values(state.instances).map((instance) => [instance.id, instance.state])).toEqual([[active, "active"]]);
  }

  it("before unpack: nothing was made, nothing to clean up", async () => {
    const result = await killDeployAt(home, "unpack", helloVersion("killed"));
    expect(result.halfMade).toEqual([]);
    expect(result.recovery).toBe("");
    expect(result.failures).toEqual([]);
    expect([...result.servedBy]).toEqual([result.active]);
    await expectNoLeftovers(home);
    await expectServingUntouched(result.active);
  });

  it("before the lock: the received archive is removed by the next command", async () => {
    const result = await killDeployAt(home, "lock", helloVersion("killed"));
    expect(result.halfMade).toEqual([]);
    expect(result.recovery).toMatch(/^removing deploy\/\.incoming-[\d-]+[0-9a-f]+, which no instance owns\n$/);
    expect(result.failures).toEqual([]);
    await expectNoLeftovers(home);
    await expectServingUntouched(result.active);
  });

  it("before copy: the half-made instance and the received archive are removed by the next command", async () => {
    const result = await killDeployAt(home, "copy", helloVersion("killed"));
    expect(result.halfMade).toHaveLength(1);
    expect(result.recovery).toMatch(
      new RegExp(`^cleaning up ${result.halfMade[0]}, left half-made by an interrupted deploy\\nremoving deploy/\\.incoming-[\\d-]+[0-9a-f]+, which no instance owns\\n$`),
    );
    expect(result.failures).toEqual([]);
    await expectNoLeftovers(home);
    await expectServingUntouched(result.active);
  });

  it.each(["procfile", "environment", "release"])("before %s: the half-made instance is removed by the next command", async (step) => {
    const result = await killDeployAt(home, step, helloVersion("killed"));
    expect(result.halfMade).toHaveLength(1);
    expect(result.recovery).toBe(`cleaning up ${result.halfMade[0]}, left half-made by an interrupted deploy\n`);
    expect(result.failures).toEqual([]);
    expect(result.samples).toBeGreaterThan(20);
    expect([...result.servedBy]).toEqual([result.active]);
    await expectNoLeftovers(home);
    await expectServingUntouched(result.active);
  });

  it("in the middle of unpacking (half the archive streamed): the partial folder is removed, and a rollback never waited for it", async () => {
    const active = Object.keys(readState(home.paths).instances)[0]!;
    const load = startLoad(home.webPort, { workers: 2 });
    // hello plus 4 MiB of data: half of it is sent, then sarge waits for the rest
    const archive = helloArchive({ "data.bin": "x".repeat(4 * 1024 * 1024) });
    const deploy = spawnSarge(home, ["deploy", "-", "web"], { input: archive.subarray(0, archive.length / 2), keepStdinOpen: true });
    const incoming = /receiving the archive into deploy\/(\.incoming-[\d-]+[0-9a-f]+)/.exec(await deploy.waitFor(/receiving the archive into deploy\/\S+\n/))![1]!;
    const folder = join(home.paths.deploy, incoming);
    await waitUntil(() => existsSync(folder) && readdirSync(folder).length > 0, 10_000, "the first entries are unpacked");
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
    expect(new Set(samples.map((sample) => instanceOf(sample.body)))).toEqual(new Set([active]));
    await expectNoLeftovers(home);
    await expectServingUntouched(active);
  });

  it("while the release hook runs: the hook's processes are stopped too", async () => {
    const active = Object.keys(readState(home.paths).instances)[0]!;
    const load = startLoad(home.webPort, { workers: 2 });
    const archive = helloVersion("slow-release", { Procfile: "web: python app.py\nrelease: echo migrating; sleep 47\n" });
    const deploy = spawnSarge(home, ["deploy", "-", "web"], { input: archive });
    await waitUntil(() => processesUsing(home.paths.deploy).some((p) => p.cmdline === "sleep 47"), 30_000, "the release hook runs");
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

  it("the next deploy after all these kills succeeds; history shows each killed release as interrupted", async () => {
    const result = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("after") });
    expect(result.code, result.stderr).toBe(0);
    expect(plainLines(result.stderr)).not.toContain("cleaning up");
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toMatch(/\(after, web-/);
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
