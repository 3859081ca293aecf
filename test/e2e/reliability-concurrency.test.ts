import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloVersion } from "../support/apps.js";
import { deployPausedAt, deployingIds, expectNoLeftovers, failuresOf, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { startLoad } from "../support/load.js";

interface HistoryRow {
  release: number;
  kind: string;
  outcome: string;
  instances: string[];
}

/**
 * Deploys started at the same time take the home's lock in turn: each one
 * waits, says who it waits for, and then runs in full. None is lost, none
 * interleaves with another, and the stable port never fails a request.
 */
describe("concurrent deploys", () => {
  const home = useDeployedHome({ app: helloVersion("first") });

  const history = async () => JSON.parse((await home.sarge(["history", "--json"])).stdout) as HistoryRow[];

  async function deployAtOnce(versions: string[]) {
    const load = startLoad(home.webPort, { workers: 2 });
    const results = await Promise.all(versions.map((version) => home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion(version) })));
    const samples = await load.stop();
    console.log(`${versions.length} deploys at once: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    return { results, samples };
  }

  it("two at once: both finish, one after the other, 0 failed requests", async () => {
    const before = (await history()).length;
    const { results, samples } = await deployAtOnce(["a", "b"]);
    expect(results.map((result) => result.code), results.map((result) => result.stderr).join("\n")).toEqual([0, 0]);
    expect(results.filter((result) => /waiting for the deploy lock held by pid \d+ \(\w+: sarge deploy web, since /.test(result.stderr))).toHaveLength(1);
    expect(failuresOf(samples)).toEqual([]);
    const releases = results.map((result) => (JSON.parse(result.stdout) as { release: number }).release).sort();
    expect(releases).toEqual([before + 1, before + 2]);
    expect((await history()).slice(before).map((entry) => [entry.release, entry.kind, entry.outcome])).toEqual([
      [before + 1, "deploy", "success"],
      [before + 2, "deploy", "success"],
    ]);
    await expectNoLeftovers(home);
  });

  it("five at once: all finish in turn, history shows all five, the last one serves", async () => {
    const before = (await history()).length;
    const { results, samples } = await deployAtOnce(["c1", "c2", "c3", "c4", "c5"]);
    expect(results.map((result) => result.code), results.map((result) => result.stderr).join("\n")).toEqual([0, 0, 0, 0, 0]);
    expect(results.filter((result) => result.stderr.includes("waiting for the deploy lock held by pid "))).toHaveLength(4);
    expect(failuresOf(samples)).toEqual([]);
    const deployed = results.map((result) => JSON.parse(result.stdout) as { release: number; instances: Array<{ id: string }> });
    expect(deployed.map((result) => result.release).sort()).toEqual([1, 2, 3, 4, 5].map((n) => before + n));
    const added = (await history()).slice(before);
    expect(added.map((entry) => [entry.release, entry.outcome])).toEqual([1, 2, 3, 4, 5].map((n) => [before + n, "success"]));
    // the release with the highest number ran last and is the one serving
    const last = deployed.find((result) => result.release === before + 5)!.instances[0]!.id;
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toContain(`, ${last})`);
    // keep_releases: 3 kept instances behind the active one, the rest destroyed
    const state = readState(home.paths);
    expect(Object.values(state.instances).filter((instance) => instance.state === "kept")).toHaveLength(3);
    expect(readdirSync(home.paths.deploy)).toHaveLength(4);
    await expectNoLeftovers(home);
  });

  it("sarge list during a live deploy shows its new instance and leaves it alone; a rollback waits for the lock", async () => {
    const deploy = await deployPausedAt(home, "readiness", helloVersion("slow"));
    const [deploying] = deployingIds(readState(home.paths));
    const list = await home.sarge(["list", "--json"]);
    expect(plainLines(list.stderr)).toBe("");
    expect((JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((row) => row.id === deploying)).toMatchObject({ state: "deploying" });
    const rollback = home.spawn(["rollback", "web"]);
    await rollback.waitForStderr("waiting for the deploy lock held by");
    expect(rollback.result).toBeNull();
    deploy.signal("SIGUSR2");
    expect((await deploy.done).code, deploy.stderr).toBe(0);
    const rolledBack = await rollback.done;
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(plainLines(rolledBack.stderr)).toMatch(/^waiting for the deploy lock held by pid \d+ \(\w+: sarge deploy web, since [^)]+\)\n/);
    // the rollback went back from the paused deploy's instance, which finished first
    expect(rolledBack.stdout).toMatch(new RegExp(`^rolled web back: ${deploying} -> web-[a-z0-9]{6} \\(release \\d+\\)\\n$`));
    await expectNoLeftovers(home);
  });
});
