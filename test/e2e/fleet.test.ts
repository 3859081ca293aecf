import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory, type HistoryEntry } from "../../src/release/history.js";
import { readState } from "../../src/instance/state.js";
import { helloVersion } from "../support/apps.js";
import { failures, frontStates, HOST_NAMES, startFleet, type Fleet } from "../support/fleet.js";
import type { TestHomeOptions } from "../support/home.js";
import { get, startLoad, type LoadRun } from "../support/load.js";
import { writeWheel } from "../support/wheels.js";
import { waitFor } from "../support/wait.js";

/**
 * Where BROKEN is set (h3 only), the new version answers /up three times (the
 * readiness checks of stage, of its activation, and again once its prepared
 * switch is let go: h3 is never in the first group) and 500 from then on: it
 * breaks after its switch, when the push verifies it.
 */
const BROKEN_CODE = `    up_answers = 0

    def do_GET(self):
        if os.environ.get("BROKEN"):
            Handler.up_answers += self.path == "/up"
            if self.path != "/up" or Handler.up_answers > 3:
                self.send_error(500)
                return
`;
/** A push waits for every host several times: on a loaded 2-CPU machine one took 30 s a host. */
const PUSH_TIMEOUT = 600_000;
const breakApp = (old: string) => old.replace("    def do_GET(self):\n", BROKEN_CODE);
/** An app that takes 10 s to stop once asked (SIGTERM): retiring it keeps an activation busy well after its switch. */
const QUICK_STOP = "    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n";
const SLOW_STOP = "    signal.signal(signal.SIGTERM, lambda *_: (__import__('time').sleep(10), sys.exit(0)))\n";
const slowToStop = (old: string) => old.replace(QUICK_STOP, SLOW_STOP);
const quickToStop = (old: string) => old.replace(SLOW_STOP, QUICK_STOP);
const mendApp = (old: string) => old.replace(BROKEN_CODE, "    def do_GET(self):\n");

/** A fleet shared by a describe block, with load through the front from its first test to its last. */
function useFleet(homeOptions: TestHomeOptions[] = []): Fleet {
  let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;
  let run: LoadRun | null = null;
  beforeAll(async () => {
    fleet = await startFleet(homeOptions);
    run = startLoad(fleet.frontPort, { workers: 4, maxMs: 1_800_000 });
    fleet.load = run.samples;
    await run.answered(20);
  }, 300_000);
  afterAll(async () => {
    await run?.stop();
    if (fleet) expect(await fleet.stop()).toEqual([]);
  });
  return new Proxy({} as Fleet, {
    get(_, field) {
      if (!fleet) throw new Error("the fleet is made in beforeAll: use it from tests and hooks");
      return fleet[field as keyof Fleet];
    },
  });
}

describe("sarge push --hosts: three homes over ssh behind a front HAProxy", () => {
  const fleet = useFleet([{}, {}, { moreEnv: { BROKEN: "1" } }]);
  const serving = () => Promise.all(fleet.homes.map((home) => get(home.webPort)));
  const pushIdOf = (entry: HistoryEntry | undefined) => entry?.push;
  const instanceIds = () => fleet.homes.map((home) => Object.keys(readState(home.paths).instances).sort());
  /** The requests through the front since `mark` that failed; there must have been some requests. */
  const failedSince = (mark: number) => {
    expect(fleet.load.length - mark, "requests through the front during the push").toBeGreaterThan(10);
    return failures(fleet.load.slice(mark));
  };
  const lb = () => ["--lb", `h1:${fleet.frontSocket}`, "--lb-backend", "app"];

  it("refuses before anything changes when a host does not answer", async () => {
    const before = instanceIds();
    const result = await fleet.push(["--verify", "1"], { hosts: `${fleet.hosts.split(",").slice(0, 2).join(",")},127.0.0.1:1:${fleet.homes[2]!.root}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("sarge: not every host answers: nothing was pushed");
    expect(result.stderr).toMatch(/127\.0\.0\.1:1:\S+: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused/);
    expect(instanceIds()).toEqual(before);
    expect(fleet.homes.map((home) => readHistory(home.paths).length)).toEqual([1, 1, 1]);
  }, PUSH_TIMEOUT);

  it("pushes a new commit to all three as each host's own user over one ssh connection each: each serves it, one push id in every history, no failed request through the front", async () => {
    const mark = fleet.load.length;
    const logins = () => fleet.sshds.map((sshd) => sshd.log().match(/Accepted publickey for \S+/g) ?? []);
    const loginsBefore = logins();
    const commit = fleet.commit("v2");
    const result = await fleet.push(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(logins().map((lines, index) => lines.slice(loginsBefore[index]!.length))).toEqual(fleet.users.map((user) => [`Accepted publickey for ${user.name}`]));
    for (const [index, home] of fleet.homes.entries()) {
      expect(execFileSync("find", [home.root, "-not", "-user", fleet.users[index]!.name], { encoding: "utf8" }), `files of ${home.root} not owned by its user`).toBe("");
    }
    const report = JSON.parse(result.stdout) as { pushId: string; outcome: string; hosts: Array<{ state: string; runs: string }> };
    expect(report.outcome).toBe("pushed");
    expect(report.hosts.map((host) => host.state)).toEqual(["ok", "ok", "ok"]);
    for (const answer of await serving()) expect(answer).toContain("(v2, ");
    for (const home of fleet.homes) {
      const last = readHistory(home.paths).at(-1);
      expect(last).toMatchObject({ commit, outcome: "success" });
      expect(pushIdOf(last)).toBe(report.pushId);
    }
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);

  it("push status shows what each host runs and flags the one that differs", async () => {
    const same = await fleet.push(["status"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).not.toContain("DIFFERS");
    const odd1 = await fleet.homes[1]!.sarge(["deploy", "-", "web"], { input: helloVersion("odd") });
    expect(odd1.code, odd1.stderr).toBe(0);
    const odd = await fleet.push(["status"]);
    expect(odd.code).toBe(1);
    const lines = odd.stdout.split("\n");
    expect(lines.find((line) => line.startsWith("h2:"))).toMatch(/ - +DIFFERS$/);
    expect(lines.filter((line) => line.includes("DIFFERS"))).toHaveLength(1);
  }, PUSH_TIMEOUT);

  it("host 2 fails staging (a wheel missing only there): no host changed, exit 1, staged releases discarded everywhere", async () => {
    for (const home of [fleet.homes[0]!, fleet.homes[2]!]) await writeWheel(home.paths.dist, { name: "extra", version: "1.0" });
    const before = instanceIds();
    const serves = await serving();
    fleet.commit("v3", { "requirements.txt": (old) => `${old}extra==1.0\n` });
    const result = await fleet.push(["--verify", "1"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^h2:\S+ +stage +failed .*extra/m);
    expect(result.stdout).toContain("staging failed: no host changed, staged releases discarded");
    expect(await serving()).toEqual(serves);
    expect(instanceIds()).toEqual(before);
  }, PUSH_TIMEOUT);

  it("host 3 fails verification after its switch: hosts 1-2 go back too, exit 2, no failed request through the front (--lb)", async () => {
    const mark = fleet.load.length;
    const serves = await serving();
    fleet.commit("v4", { "requirements.txt": (old) => old.replace("extra==1.0\n", ""), "app.py": breakApp });
    const result = await fleet.push(["--verify", "2", ...lb()]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^h3:\S+ +verify +failed .*web failed verification on its stable address 127\.0\.0\.1:\d+ .*answered 500/m);
    expect(result.stdout).toContain("a switch or verification failed: the moved hosts were switched back");
    expect(result.stderr.match(/ rollback +ok /g)).toHaveLength(3);
    expect(await serving()).toEqual(serves);
    expect(Object.values(await frontStates(fleet))).toEqual(["ready", "ready", "ready"]);
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);

  it("--lb: each host's server in the front shows drain during its switch, and no request fails", async () => {
    const mark = fleet.load.length;
    fleet.commit("v5", { "app.py": mendApp });
    const push = fleet.spawnPush(["--verify", "1", ...lb()]);
    const seen = new Set<string>();
    await waitFor(async () => {
      for (const [server, state] of Object.entries(await frontStates(fleet))) if (state === "drain") seen.add(server);
      return push.result !== null;
    }, "the push to finish", PUSH_TIMEOUT, 20);
    expect(push.result!.code, push.stderr).toBe(0);
    expect([...seen].sort()).toEqual([...HOST_NAMES]);
    expect(Object.values(await frontStates(fleet))).toEqual(["ready", "ready", "ready"]);
    for (const answer of await serving()) expect(answer).toContain("(v5, ");
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);

  it("two pushes at once: one waits for the other's locks, both complete, their releases never interleave", async () => {
    fleet.commit("v6");
    const first = fleet.spawnPush(["--verify", "1", "--json"]);
    const second = fleet.spawnPush(["--verify", "1", "--json"], { hosts: fleet.hosts.split(",").reverse().join(",") });
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ids = [JSON.parse(a.stdout).pushId as string, JSON.parse(b.stdout).pushId as string];
    for (const home of fleet.homes) {
      const runs = readHistory(home.paths).map(pushIdOf).filter((id) => id !== undefined && ids.includes(id));
      // one push's lines, then the other's: never interleaved
      expect(runs.filter((id, index) => id !== runs[index - 1])).toHaveLength(2);
    }
    for (const answer of await serving()) expect(answer).toContain("(v6, ");
  }, PUSH_TIMEOUT);

  /** This push's activation on each host, from its history. */
  const activations = (pushId: string) => fleet.homes.map((home) => readHistory(home.paths).find((entry) => entry.kind === "activate" && entry.push === pushId)!);

  it("old instances slow to stop: host 3 fails verification while host 2 still retires; the rollback waits for each activation to end, all three go back, exit 2", async () => {
    const mark = fleet.load.length;
    fleet.commit("v8", { "app.py": slowToStop });
    const slow = await fleet.push([]);
    expect(slow.code, slow.stderr).toBe(0);
    const serves = await serving();

    fleet.commit("v9", { "app.py": (old) => breakApp(quickToStop(old)) });
    // --lb: h3's 500s never reach the front
    const result = await fleet.push(["--json", ...lb()]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^h3:\S+ +verify +failed .*answered 500/m);
    const { pushId } = JSON.parse(result.stdout) as { pushId: string };
    const [, h2, h3] = activations(pushId);
    // h3 switched (and failed) while h2 still stopped its old instance
    expect(Date.parse(h3!.startedAt)).toBeLessThan(Date.parse(h2!.finishedAt));
    for (const [index, home] of fleet.homes.entries()) {
      const rollback = readHistory(home.paths).findLast((entry) => entry.kind === "rollback" && entry.push === pushId);
      expect(rollback, `h${index + 1} rolled back`).toMatchObject({ outcome: "success" });
      expect(Date.parse(rollback!.startedAt), `h${index + 1}: its rollback began after its activation ended`).toBeGreaterThanOrEqual(Date.parse(activations(pushId)[index]!.finishedAt));
    }
    expect(await serving()).toEqual(serves);
    expect(Object.values(await frontStates(fleet))).toEqual(["ready", "ready", "ready"]);
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);

  it("old instances slow to stop: each next host switches while the one before still retires, and the push reports every host done", async () => {
    const mark = fleet.load.length;
    fleet.commit("v10", { "app.py": (old) => quickToStop(mendApp(old)) });
    const result = await fleet.push(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { pushId: string; hosts: Array<{ phase: string; state: string }> };
    expect(report.hosts.map((host) => [host.phase, host.state])).toEqual([["done", "ok"], ["done", "ok"], ["done", "ok"]]);
    const [h1, h2, h3] = activations(report.pushId);
    expect(Date.parse(h2!.startedAt), "h2 began before h1 had retired its old instance").toBeLessThan(Date.parse(h1!.finishedAt));
    expect(Date.parse(h3!.startedAt), "h3 began before h2 had retired its old instance").toBeLessThan(Date.parse(h2!.finishedAt));
    for (const entry of [h1, h2, h3]) expect(entry).toMatchObject({ outcome: "success" });
    for (const answer of await serving()) expect(answer).toContain("(v10, ");
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);

  it("a push killed (SIGKILL) after its first host switched leaves no lock and nothing staged behind: the next push completes on every host", async () => {
    const mark = fleet.load.length;
    fleet.commit("v7");
    const killed = fleet.spawnPush(["--verify", "1"]);
    await killed.waitForStderr(/^h1:\S+ +activate +ok/m, PUSH_TIMEOUT);
    const result = await killed.kill();
    expect(result.signal).toBe("SIGKILL");

    const next = await fleet.push(["--verify", "1", "--wait-lock", "120"]);
    expect(next.code, next.stderr).toBe(0);
    for (const answer of await serving()) expect(answer).toContain("(v7, ");
    for (const home of fleet.homes) expect(Object.values(readState(home.paths).instances).filter((instance) => instance.state === "staged")).toEqual([]);
    expect(failedSince(mark)).toEqual([]);
  }, PUSH_TIMEOUT);
});
