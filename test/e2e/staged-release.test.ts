/**
 * Staged releases with real HAProxy, supervisors and Python (docs/behaviour.md,
 * "Staged releases"): deploy --stage, activate and discard under load on the
 * stable port; sarge hold and its token; a staged release across supervisor restarts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runningProcStat } from "../../src/util/proc-stat.js";
import { helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf, pausedLine, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import type { TestHome } from "../support/home.js";
import { get, instanceOf, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";

interface Staged {
  release: number;
  commit: string | null;
  instances: Array<{ id: string; proc: string; port: number }>;
  durationMs: number;
}

interface ListRow {
  id: string;
  state: string;
  process: string;
  pid: number | null;
  release: number;
}

describe("staged releases with real HAProxy and Python", () => {
  const home = useDeployedHome();
  const list = async () => JSON.parse((await home.sarge(["list", "--json"])).stdout) as ListRow[];
  const stage = async (version: string, env: Record<string, string> = {}) => {
    const result = await home.sarge(["deploy", "--stage", "-", "web", "--json"], { input: helloVersion(version), env });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Staged;
  };

  it("stages beside the serving version, activates with 0 failed requests, stages again and discards, leaving nothing", async () => {
    const load = startLoad(home.webPort, { workers: 4 });
    await load.answered(20);
    const staged = await stage("v2", { SARGE_PUSH_ID: "push-e2e.1" });
    const [{ id, port }] = staged.instances as [Staged["instances"][number]];
    expect(Object.keys(staged)).toEqual(expect.arrayContaining(["release", "commit", "instances", "durationMs"]));
    expect(staged.release).toBe(2);
    expect(await get(home.webPort)).toContain("(v1, ");
    expect(await get(port)).toContain(`(v2, ${id})`);
    // ready on its port already; under load the supervisor may still call it "starting" for a moment
    let row: ListRow | undefined;
    await waitFor(async () => (row = (await list()).find((candidate) => candidate.id === id))?.process === "running", () => `${id} running: ${JSON.stringify(row)}`);
    expect(row).toMatchObject({ state: "staged", process: "running", release: 2 });
    await load.answered(50);
    expect(load.samples.some((sample) => instanceOf(sample.body) === id)).toBe(false);

    const activate = await home.sarge(["activate", "2", "--json"], { env: { SARGE_PUSH_ID: "push-e2e.1" } });
    expect(activate.code, activate.stderr).toBe(0);
    expect(JSON.parse(activate.stdout)).toMatchObject({ release: 3, activated: 2, instances: [{ id, port }] });
    expect(activate.stderr).toContain(`now routes to ${id}`);
    expect(await get(home.webPort)).toContain(`(v2, ${id})`);
    await load.answered(50);
    const samples = await load.stop();
    expect(failuresOf(samples)).toEqual([]);
    expect(samples.at(-1)!.instance).toBe(id);

    const again = await stage("v3");
    const [next] = again.instances;
    expect(await get(home.webPort)).toContain(`(v2, ${id})`);
    const discard = await home.sarge(["discard", String(again.release)]);
    expect([discard.code, discard.stdout]).toEqual([0, `discarded release ${again.release}: ${next!.id}\n`]);
    expect((await list()).map((row) => row.id)).not.toContain(next!.id);
    expect(await get(home.webPort)).toContain(`(v2, ${id})`);
    await expectNoLeftovers(home, [next!.port]);

    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ kind: string; outcome: string; push?: string }>;
    expect(history.map(({ kind, outcome, push }) => [kind, outcome, push ?? null])).toEqual([
      ["deploy", "success", null],
      ["stage", "success", "push-e2e.1"],
      ["activate", "success", "push-e2e.1"],
      ["stage", "success", null],
    ]);
  });

  it("says why it refuses to discard an active release or activate one it does not have", async () => {
    const active = (await list()).find((row) => row.state === "active")!;
    const discard = await home.sarge(["discard", String(active.release)]);
    expect([discard.code, discard.stderr]).toEqual([1, `sarge: release ${active.release} is active (${active.id}): only a staged release can be discarded\n`]);
    const activate = await home.sarge(["activate", "99"]);
    expect(activate.code).toBe(1);
    expect(activate.stderr).toMatch(/^sarge: no staged or kept release 99 to activate; staged: none; kept: 1 \(web-\w+\)\n/);
    const notNumber = await home.sarge(["activate", "latest"]);
    expect([notNumber.code, notNumber.stderr]).toEqual([2, 'sarge: <release>: expected a release number like 7 (see sarge list), got "latest"\n']);
    const badPush = await home.sarge(["activate", "1"], { env: { SARGE_PUSH_ID: "../etc" } });
    expect([badPush.code, badPush.stderr]).toEqual([2, 'sarge: SARGE_PUSH_ID "../etc" is not a push id: expected 1 to 64 letters, digits, dots, underscores or hyphens\n']);
  });

  it("holds the deploy lock for a session: commands with its token use it, others wait until the session ends", async () => {
    const hold = home.spawn(["hold", "--wait-lock", "30"], { keepStdinOpen: true });
    const [line] = await hold.waitFor(/^held [0-9a-f]{16} prepares runs list activate verify\n$/);
    const token = line!.split(" ")[1]!.trim();
    // what a fleet push asks of it: one reply line per request line, under its lock
    hold.child.stdin!.write("activate 7\n");
    await hold.waitFor(/^failed "not a request: activate 7"$/m);
    hold.child.stdin!.write(`${JSON.stringify({ command: "verify", procs: ["web"], forMs: 0, passes: 2 })}\n`);
    await hold.waitFor(/^ok \{"procs":\["web"\],"probes":2,"durationMs":\d+\}$/m);
    // an activation asked to say `switched` says it in its turn, runs the next request while it retires, and ends with `activated ok`
    const early = await stage("v3-held", { SARGE_LOCK_TOKEN: token });
    hold.child.stdin!.write(`${JSON.stringify({ command: "activate", release: early.release, switched: true })}\n${JSON.stringify({ command: "verify", procs: ["web"], forMs: 0, passes: 1 })}\n`);
    await hold.waitFor(/^activated ok \{.*"activated":\d+.*\}$/m, 120_000);
    await hold.waitFor(/^ok \{"procs":\["web"\],"probes":1,/m);
    const replies = hold.stdout.split("\n").slice(3, 6);
    expect(replies[0]).toMatch(new RegExp(`^switched \\{"release":\\d+,"commit":.*"instances":\\[\\{"id":"${early.instances[0]!.id}"`));
    expect(replies.slice(1).map((reply) => reply.split(" ")[0]).sort()).toEqual(["activated", "ok"]);
    expect(await get(home.webPort)).toContain("(v3-held, ");
    // a prepared activation waits before its switch; `abort` leaves the staged release staged and the live one serving
    const live = (await list()).find((row) => row.state === "active")!.id;
    const prepared = await stage("v3-aborted", { SARGE_LOCK_TOKEN: token });
    hold.child.stdin!.write(`${JSON.stringify({ command: "activate", release: prepared.release, switched: true, prepare: true })}\n`);
    await hold.waitFor(/^prepared \{\}$/m, 120_000);
    const states = async () => Object.fromEntries((await list()).map((row) => [row.id, row.state]));
    expect(await states()).toMatchObject({ [live]: "active", [prepared.instances[0]!.id]: "staged" });
    hold.child.stdin!.write("abort\n");
    await hold.waitFor(/^failed "activate cancelled at switch"$/m);
    expect(await states()).toMatchObject({ [live]: "active", [prepared.instances[0]!.id]: "staged" });
    expect(await get(home.webPort)).toContain("(v3-held, ");

    const second = await home.sarge(["hold", "--wait-lock", "0.5"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`sarge: the home is locked by pid ${hold.pid} (`);
    expect(second.stderr).toContain(": sarge hold) since ");

    const staged = await stage("v4", { SARGE_LOCK_TOKEN: token });
    const waiting = home.spawn(["discard", String(staged.release)]);
    await waiting.waitForStderr(`waiting for the deploy lock held by pid ${hold.pid}`);
    expect(waiting.result).toBeNull();
    // the session ends while an activation waits before its switch: it is aborted, so the release stays staged for the discard
    hold.child.stdin!.write(`${JSON.stringify({ command: "activate", release: staged.release, switched: true, prepare: true })}\n`);
    await waitFor(() => (hold.stdout.match(/^prepared \{\}$/gm) ?? []).length === 2, "the second activation to wait before its switch", 120_000);
    hold.child.stdin!.end();
    expect((await hold.done).code).toBe(0);
    expect(hold.stdout.split("\n").filter(Boolean).at(-1)).toBe('failed "activate cancelled at switch"');
    expect((await waiting.done).code).toBe(0);

    const stale = await home.sarge(["list"], { env: { SARGE_LOCK_TOKEN: token } });
    expect(stale.code).toBe(0);
    const refused = await home.sarge(["activate", "1"], { env: { SARGE_LOCK_TOKEN: token } });
    expect([refused.code, refused.stderr.split("\n")[0]]).toEqual([1, "sarge: SARGE_LOCK_TOKEN does not hold the deploy lock: nobody holds it"]);
    await expectNoLeftovers(home);
  });

  it("an activate killed in its switch under load: the next command routes back, the release stays staged, 0 failed requests", async () => {
    const active = (await list()).find((row) => row.state === "active")!.id;
    const staged = await stage("v5");
    const [{ id }] = staged.instances as [Staged["instances"][number]];
    const load = startLoad(home.webPort, { workers: 2 });
    await load.answered(10);
    const activate = home.spawn(["activate", String(staged.release)], { env: { SARGE_PAUSE_AT: "switch-drain" } });
    await activate.waitForStderr(pausedLine("switch-drain"));
    await load.answered(10);
    await activate.kill();
    const recovery = await home.sarge(["list"]);
    expect(recovery.code, recovery.stderr).toBe(0);
    expect(plainLines(recovery.stderr)).toBe("web: routed back to its active instance after an interrupted deploy\n");
    await load.answered(10);
    expect(await get(home.webPort)).toContain(`, ${active})`);
    expect((await list()).find((row) => row.id === id)).toMatchObject({ state: "staged", process: "running" });
    const history = JSON.parse((await home.sarge(["history", "--json", "-n", "1"])).stdout);
    expect(history).toMatchObject([{ kind: "activate", outcome: "failed", detail: [`release ${staged.release}`, `from ${active}`, "undone by recovery"] }]);

    const again = await home.sarge(["activate", String(staged.release)]);
    expect(again.code, again.stderr).toBe(0);
    await load.answered(10);
    const samples = await load.stop();
    expect(failuresOf(samples)).toEqual([]);
    expect(samples.at(-1)!.instance).toBe(id);
    await expectNoLeftovers(home);
  });

  it("keeps a staged release running, not routed, when the supervisor is killed and restarted, or stopped and started; then activates", () =>
    keepsStagedAcrossRestarts(home, "builtin"));
});

describe("a staged release across supervisord restarts", () => {
  const home = useDeployedHome({ supervisor: "supervisord" });
  it("keeps running, not routed, when supervisord is killed and restarted, or stopped and started; then activates", () => keepsStagedAcrossRestarts(home, "supervisord"));
});

/** Stage, SIGKILL the supervisor and start it again (the staged instance is adopted), stop and start it (started again), then activate. */
async function keepsStagedAcrossRestarts(home: TestHome, supervisor: "builtin" | "supervisord"): Promise<void> {
  const list = async () => JSON.parse((await home.sarge(["list", "--json"])).stdout) as ListRow[];
  const active = (await list()).find((row) => row.state === "active")!.id;
  const result = await home.sarge(["deploy", "--stage", "-", "web", "--json"], { input: helloVersion("v6") });
  expect(result.code, result.stderr).toBe(0);
  const staged = JSON.parse(result.stdout) as Staged;
  const [{ id, port }] = staged.instances as [Staged["instances"][number]];
  const pid = (await list()).find((row) => row.id === id)!.pid;

  const killed = supervisor === "builtin" ? home.supervisorPid()! : Number(readFileSync(join(home.paths.run, "supervisord.pid"), "utf8"));
  process.kill(killed, "SIGKILL");
  await waitFor(() => runningProcStat(killed) === null, "the killed supervisor is gone", 10_000);
  await home.startSupervisor();
  await waitFor(async () => (await list()).find((row) => row.id === id)?.process === "running", `${id} adopted by the new supervisor`, 30_000);
  expect((await list()).find((row) => row.id === id)).toMatchObject({ state: "staged", pid });

  await home.stopSupervisor();
  await home.startSupervisor();
  await waitFor(async () => (await list()).find((row) => row.id === id)?.process === "running", `${id} running again after a restart`, 30_000);
  expect(await get(port)).toContain(`(v6, ${id})`);
  expect(await get(home.webPort)).toContain(`, ${active})`);

  const activate = await home.sarge(["activate", String(staged.release)]);
  expect(activate.code, activate.stderr).toBe(0);
  expect(await get(home.webPort)).toContain(`(v6, ${id})`);
}
