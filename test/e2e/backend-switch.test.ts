import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { processesUsing } from "../support/processes.js";

describe("switching a home between the builtin supervisor and supervisord", () => {
  const home = useDeployedHome({ supervisor: "builtin" });

  const useBackend = (kind: string) =>
    writeFileSync(home.paths.config, readFileSync(home.paths.config, "utf8").replace(/^supervisor: \w+$/m, `supervisor: ${kind}`));

  it("is refused while the other backend's programs run, saying how to do it", async () => {
    useBackend("supervisord");
    const direct = await home.sarge(["supervisord"]);
    const wrapper = spawnSync(join(home.root, "bin", "supervisord"), { encoding: "utf8" });
    expect(wrapper.status).toBe(1);
    expect(wrapper.stderr).toMatch(/^sarge: cannot start the supervisord supervisor: programs still run under the builtin supervisor /);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(/^sarge: cannot start the supervisord supervisor: programs still run under the builtin supervisor \((haproxy, web-\w+|web-\w+, haproxy)\)\n/);
    expect(direct.stderr).toContain("stop the builtin supervisor first");
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toContain("(v1, ");
  });

  it("works once the old supervisor is stopped: the next command brings the active version back", async () => {
    useBackend("builtin");
    await home.stopSupervisor();
    useBackend("supervisord");
    await home.startSupervisor();
    const status = await home.sarge(["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/starting web-\w+: it is active but its supervisor does not know it/);
    expect(status.stderr).toContain("started HAProxy with the routes of the active instances");
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toContain("(v1, ");
    const deployed = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v2") });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${home.webPort}/`)).text()).toContain("(v2, ");
  });

  it("bin/supervisord becomes supervisord itself: no sarge process stays in between", () => {
    const running = processesUsing(home.root).map((p) => p.cmdline);
    expect(running.filter((cmdline) => cmdline.includes("supervisord --nodaemon -c"))).toHaveLength(1);
    expect(running.filter((cmdline) => cmdline.includes("bin/sarge") && cmdline.includes(" supervisord"))).toEqual([]);
  });
});
