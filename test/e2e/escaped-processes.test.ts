import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helloArchive } from "../support/apps.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { waitFor } from "../support/supervisor-contract.js";

/** Running processes whose command line is exactly `sleep <seconds>`. */
function sleepers(seconds: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8") === `sleep\0${seconds}\0`) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** examples/hello whose web process first starts a daemon: a session of its own, working in /, so neither its group nor its folder finds it. */
function daemonizingApp(seconds: number): Buffer {
  return helloArchive({ Procfile: `web: setsid sh -c 'cd / && exec sleep ${seconds}' & exec python app.py\n` });
}

describe.each(["builtin", "supervisord"] as const)("processes that leave their instance's process group (%s supervisor)", (supervisor) => {
  let home: TestHome;
  // A duration no other process uses names each version's daemon.
  const [first, second] = [1, 2].map((offset) => 900_000 + Math.floor(Math.random() * 90_000) * 10 + offset) as [number, number];
  beforeAll(async () => {
    home = await createTestHome({ supervisor });
    await home.startSupervisor();
  });
  afterAll(async () => {
    for (const pid of [...sleepers(first), ...sleepers(second)]) process.kill(pid, "SIGKILL");
    expect(await home.destroy()).toEqual([]);
  });

  const deploy = async (seconds: number) => {
    const result = await home.sarge(["deploy", "-", "web", "--json"], { input: daemonizingApp(seconds) });
    expect(result.code, result.stderr).toBe(0);
    const id = (JSON.parse(result.stdout) as { instances: Array<{ id: string }> }).instances[0]!.id;
    const [daemon] = await waitFor(() => (sleepers(seconds).length === 1 ? sleepers(seconds) : undefined), `${id}'s daemon`);
    return { id, daemon: daemon!, stderr: result.stderr };
  };
  const stopped = (id: string, pid: number, seconds: number) => `${id}: stopping pid ${pid} (sleep ${seconds}), which left its process group`;

  it("stops them with the instance, and says so: when a deploy retires it, on sarge stop, on destroy", async () => {
    const old = await deploy(first);
    const current = await deploy(second);
    expect(sleepers(first)).toEqual([]);
    expect(current.stderr).toContain(stopped(old.id, old.daemon, first));

    const stop = await home.sarge(["stop", current.id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sleepers(second)).toEqual([]);
    expect(stop.stderr).toContain(stopped(current.id, current.daemon, second));

    expect((await home.sarge(["start", current.id])).code).toBe(0);
    const [restarted] = await waitFor(() => (sleepers(second).length === 1 ? sleepers(second) : undefined), "the daemon of the started instance");
    const destroy = await home.sarge(["destroy", current.id, "--force"]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(sleepers(second)).toEqual([]);
    expect(destroy.stderr).toContain(stopped(current.id, restarted!, second));
  });
});
