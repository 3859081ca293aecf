import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloVersion } from "../support/apps.js";
import { deployingIds, deployPausedAt, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get } from "../support/load.js";
import { accepts } from "../support/ports.js";
import { startSquatter, type Squatter } from "../support/squatter.js";
import { waitFor } from "../support/wait.js";

/**
 * Another local user who listens on a port sarge routes to: an instance's port taken between
 * the deploy's port choice and the app's bind, or the stable port taken while HAProxy is down.
 * A TCP connect cannot tell the squatter from the app; the socket's owner can.
 */
describe("a local user squatting on sarge's ports", () => {
  const home = useDeployedHome({ rangeSize: 2, app: helloVersion("stable") });
  let serving: string;
  beforeAll(async () => {
    serving = await get(home.webPort);
  });

  it("refuses to route a deploy to a port someone else listens on, naming them; the live version keeps serving", async () => {
    const deploy = await deployPausedAt(home, "start", helloVersion("new"));
    const [id] = deployingIds(readState(home.paths));
    const port = readState(home.paths).instances[id!]!.port;
    expect(port).toBe(home.portRange[1]); // the range's other port: the live instance holds the first
    const squatter = await startSquatter(port);
    deploy.signal("SIGUSR2");
    const { code } = await deploy.done;
    expect(code, deploy.stderr).toBe(1);
    expect(plainLines(deploy.stderr)).toContain(
      `sarge: deploy failed at readiness: ${id} does not hold its port ${port}: pid ${squatter.pid} of user ${squatter.user} (`,
    );
    expect(plainLines(deploy.stderr)).toContain("listens there; sarge routes only to the instance's own processes\n");
    expect(await get(home.webPort)).toBe(serving);
    expect(await get(port)).toBe(squatter.body);
  });

  it("reports a squatter on the stable port while HAProxy is down: not ok, with its pid and user", async () => {
    const haproxy = Number(readFileSync(home.paths.haproxyPid, "utf8").trim());
    const daemon = Number(readFileSync(join(home.paths.run, "supervisor.pid"), "utf8").trim());
    // the supervisor paused so that it cannot restart HAProxy before the squatter binds
    process.kill(daemon, "SIGSTOP");
    let squatter: Squatter;
    try {
      process.kill(-haproxy, "SIGKILL");
      await waitFor(async () => !(await accepts(home.webPort)), "HAProxy's port to be free", 5_000);
      squatter = await startSquatter(home.webPort);
    } finally {
      process.kill(daemon, "SIGCONT");
    }
    const status = await home.sarge(["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^web\s.*\sFAILING$/m);
    expect(status.stdout).toContain(
      `\nweb: the stable address 127.0.0.1:${home.webPort} is not HAProxy's: pid ${squatter.pid} of user ${squatter.user} (`,
    );
    const json = JSON.parse((await home.sarge(["status", "--json"])).stdout) as Array<{ proc: string; healthy: boolean; problem: string }>;
    expect(json.find((entry) => entry.proc === "web")).toMatchObject({ healthy: false, problem: expect.stringContaining(`pid ${squatter.pid}`) });
  });
});
