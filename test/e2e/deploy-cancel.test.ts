import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { readHistory } from "../../src/release/history.js";
import { helloArchive, helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf, pausedLine, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { processesUsing } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

describe("a deploy cancelled by SIGTERM or SIGINT (builtin supervisor, real HAProxy and pip)", () => {
  const home = useDeployedHome();

  const active = () => Object.values(readState(home.paths).instances).find((instance) => instance.state === "active")!.id;

  it("during the environment build, under load: pip stops, nothing is left, the live version never failed a request", async () => {
    const serving = active();
    const environments = readdirSync(home.paths.envs).sort();
    const load = startLoad(home.webPort, { workers: 2 });
    // a requirements file of its own: the environment is built, not reused
    const archive = helloVersion("v2", { "requirements.txt": "greeting==1.0\n# cancelled build\n" });
    const deploy = home.spawn(["deploy", "-", "web"], { input: archive, env: { SARGE_PAUSE_AT: "environment" } });
    await deploy.waitForStderr(pausedLine("environment"));
    deploy.signal("SIGUSR2");
    await waitFor(() => processesUsing(home.paths.deploy).some((p) => p.cmdline.includes("pip")), "pip to run", 60_000, 5);
    deploy.signal("SIGTERM");
    const result = await deploy.done;
    const samples = await load.stop();
    console.log(`SIGTERM during the environment build: ${failuresOf(samples).length} failed of ${samples.length} requests`);

    expect(result.code, result.stderr).toBe(5);
    expect(plainLines(result.stderr)).toContain("SIGTERM: cancelling; the release stops at the next safe point and undoes what it made\n");
    expect(plainLines(result.stderr)).toContain("sarge: deploy cancelled at environment\n");
    expect(failuresOf(samples)).toEqual([]);
    expect(new Set(samples.map((sample) => sample.instance))).toEqual(new Set([serving]));
    expect(processesUsing(home.root).filter((p) => p.cmdline.includes("pip"))).toEqual([]);
    expect(readdirSync(home.paths.envs).sort()).toEqual(environments);
    await expectNoLeftovers(home);
    expect(readHistory(home.paths).at(-1)).toMatchObject({ release: 2, outcome: "cancelled", error: "deploy cancelled at environment" });
    expect(await get(home.webPort)).toContain(`(v1, ${serving})`);
  });

  it("while the archive arrives (SIGINT): the incoming folder goes", async () => {
    const archive = helloArchive({ "data.bin": "x".repeat(4 * 1024 * 1024) });
    const deploy = home.spawn(["deploy", "-", "web"], { input: archive.subarray(0, archive.length / 2), keepStdinOpen: true });
    const [, incoming] = await deploy.waitForStderr(/receiving the archive into deploy\/(\.incoming-[\d-]+[0-9a-f]+)/);
    await waitFor(() => existsSync(join(home.paths.deploy, incoming!)), "the incoming folder");
    deploy.signal("SIGINT");
    const result = await deploy.done;

    expect(result.code, result.stderr).toBe(5);
    expect(plainLines(result.stderr)).toContain("sarge: deploy cancelled at unpack\n");
    expect(readdirSync(home.paths.deploy).filter((name) => name.startsWith(".incoming"))).toEqual([]);
    await expectNoLeftovers(home);
  });

  it("after the switch began: the signal is refused with a line, and the release finishes", async () => {
    const deploy = home.spawn(["deploy", "-", "web"], { input: helloVersion("v3"), env: { SARGE_PAUSE_AT: "switch-drain" } });
    await deploy.waitForStderr(pausedLine("switch-drain"));
    deploy.signal("SIGTERM");
    await deploy.waitForStderr("SIGTERM ignored: the release is already switching and will finish; undo it afterwards with sarge rollback");
    deploy.signal("SIGUSR2");
    const result = await deploy.done;

    expect(result.code, result.stderr).toBe(0);
    expect(await get(home.webPort)).toContain("(v3, ");
    await expectNoLeftovers(home);
  });
});
