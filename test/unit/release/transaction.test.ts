import { mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { tcpProbe } from "../../../src/util/tcp-probe.js";
import { readState } from "../../../src/instance/state.js";
import { applyConfigRelease } from "../../../src/release/config.js";
import { recoverInterrupted } from "../../../src/release/recovery.js";
import { destroyInstances } from "../../../src/release/retire.js";
import { withHomeLock } from "../../../src/release/transaction.js";
import { createUnitHome, type UnitHome, type UnitHomeOptions } from "../../support/unit-home.js";

describe("the release transaction", () => {
  let home: UnitHome;
  afterEach(() => home.destroy());

  /** A home where release 1 made web and api active; returns their ids. */
  async function homeWithOneRelease(options?: UnitHomeOptions): Promise<{ web: string; api: string }> {
    home = await createUnitHome(options);
    const [web, api] = (await home.release(["web", "api"])).instances.map((instance) => instance.id);
    home.lines.length = 0;
    return { web: web!, api: api! };
  }

  /** What the supervisor, HAProxy and deploy/ hold, beside state. */
  async function world() {
    return { running: await home.running(), known: (await home.supervisor.status()).length, folders: home.folders(), serving: new Map(home.router.serving) };
  }

  /** Release 2 is done: its instances active and served, release 1's kept. */
  function expectSwitched(old: { web: string; api: string }, made: { web: string; api: string }): void {
    expect(home.summary()).toEqual({
      lastRelease: 2,
      instances: { [old.web]: "kept", [old.api]: "kept", [made.web]: "active", [made.api]: "active" },
      routes: made,
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map(Object.entries(made)));
  }

  it("switches a release's new instances in, keeps the replaced ones stopped, and records its success", async () => {
    const old = await homeWithOneRelease();
    const result = await home.release(["web", "api"]);
    const [web, api] = result.instances.map((instance) => instance.id);

    expectSwitched(old, { web: web!, api: api! });
    expect(await home.running()).toEqual([web, api].sort());
    for (const { port } of result.instances) expect(await tcpProbe(port)).toBeNull();
    expect(home.folders()).toEqual([old.web, old.api, web, api].sort());
    expect(home.history().map(({ release, kind, instances, commit, outcome, error }) => ({ release, kind, instances, commit, outcome, error }))).toEqual([
      { release: 1, kind: "deploy", instances: [old.web, old.api], commit: "c0ffee", outcome: "success", error: undefined },
      { release: 2, kind: "deploy", instances: [web, api], commit: "c0ffee", outcome: "success", error: undefined },
    ]);
    // readiness reads /proc to see whose socket answers: its time depends on the machine's load, and the two wait side by side
    const lines = home.lines.map((line) => line.replace(/ after \d+\.\ds$/, " after Ns"));
    expect(lines.slice(0, 2).sort()).toEqual([`${web}: ready on port ${result.instances[0]!.port} after Ns`, `${api}: ready on port ${result.instances[1]!.port} after Ns`].sort());
    expect(lines.slice(2)).toEqual([
      `web: 127.0.0.1:${home.ctx.config.portMap.web!.port} now routes to ${web} (switch took 1 ms)`,
      `api: 127.0.0.1:${home.ctx.config.portMap.api!.port} now routes to ${api} (switch took 1 ms)`,
      `${old.web}: stopped, kept for rollback`,
      `${old.api}: stopped, kept for rollback`,
    ]);
  });

  it("switches a type without a stable port in state only, once it stayed up", async () => {
    home = await createUnitHome({ routed: ["web"], healthTimeout: "100ms" });
    const [, first] = (await home.release(["web", "worker"])).instances;
    const [, worker] = (await home.release(["web", "worker"])).instances;

    expect(home.summary()).toMatchObject({ instances: { [first!.id]: "kept", [worker!.id]: "active" }, routes: { web: expect.any(String) } });
    expect([...home.router.serving.keys()]).toEqual(["web"]);
    expect(home.router.faults.calls).not.toContain(`activate ${worker!.id}`);
    expect(home.lines).toContain(`worker: ${worker!.id} is the active instance`);
    expect(await home.running()).toContain(worker!.id);
  });

  it("makes a config change a release: each active instance copied into a new one with the new env", async () => {
    const old = await homeWithOneRelease();
    writeFileSync(home.paths.config, readFileSync(home.paths.config, "utf8") + "env:\n  MESSAGE: changed\n");

    const result = await applyConfigRelease(home.ctx, ["MESSAGE"]);
    const [web, api] = result.instances.map((instance) => instance.id);
    expectSwitched(old, { web: web!, api: api! });
    const state = home.state();
    for (const [id, from] of [[web!, old.web], [api!, old.api]] as const) {
      expect(state.instances[id]).toMatchObject({ configEnv: { MESSAGE: "changed" }, command: state.instances[from]!.command, commit: "c0ffee" });
    }
    expect(home.history()[1]).toMatchObject({ release: 2, kind: "config", outcome: "success", detail: ["MESSAGE"] });
  });

  it("removes everything a first release made when its second switch fails: there is nothing to route back to", async () => {
    home = await createUnitHome();
    home.router.faults.failOn("activate", "api", "HAProxy refused");

    await expect(home.release(["web", "api"])).rejects.toThrow("deploy failed at switch: HAProxy refused");
    expect(home.summary()).toMatchObject({ lastRelease: 1, instances: {}, pendingRelease: null });
    expect(await home.supervisor.status()).toEqual([]);
    expect(home.folders()).toEqual([]);
  });

  const failures: Array<{
    step: string;
    release?: string;
    options?: UnitHomeOptions;
    /** Plant the fault; returns the release to run (a release of web and api unless it says otherwise). */
    plant?: (home: UnitHome, old: { web: string; api: string }) => Promise<() => Promise<unknown>> | (() => Promise<unknown>) | void;
    reason: (made: { web: string; api: string }, home: UnitHome) => string;
  }> = [
    {
      step: "prepare",
      release: "config change",
      plant: async ({ ctx }, old) => {
        let change: Promise<unknown> = Promise.resolve();
        // config set reads which types run before it waits for the lock; meanwhile web's active instance is destroyed
        await withHomeLock(ctx, `sarge destroy ${old.web}`, async () => {
          change = applyConfigRelease(ctx, ["MESSAGE"]);
          const state = readState(ctx.paths);
          await destroyInstances(ctx, state, [state.instances[old.web]!]);
        });
        return () => change;
      },
      reason: () => "web has no active instance any more to copy",
    },
    {
      step: "procfile",
      plant: (home) => () => home.deploy(["web", "api"], { Procfile: "web: serve-web\n" }),
      reason: () => 'unknown process type "api": the Procfile defines web',
    },
    {
      step: "port",
      options: { portRangeSize: 2 },
      reason: (_made, { ctx }) =>
        `port range ${ctx.config.portRange[0]}-${ctx.config.portRange[1]} is exhausted: 2 ports are held by instances and the rest are in use on this machine`,
    },
    {
      step: "start",
      plant: ({ supervisor }) => supervisor.faults.failOn("start", "api", "spawn failed"),
      reason: () => "spawn failed",
    },
    {
      step: "readiness",
      plant: ({ supervisor }) => supervisor.crashOnStart("api"),
      reason: (made) => `${made.api} the process exited (exit 1) before it was ready`,
    },
    {
      step: "switch",
      plant: ({ router }) => router.faults.failOn("activate", "api", "HAProxy refused"),
      reason: () => "HAProxy refused",
    },
  ];

  for (const { step, release = "deploy", options, plant, reason } of failures) {
    it(`undoes a ${release} that fails at ${step}: state, programs, folders and routes as before, history says why`, async () => {
      const old = await homeWithOneRelease(options);
      const run = (await plant?.(home, old)) ?? (() => home.release(["web", "api"]));
      const before = { summary: home.summary(), world: await world() };

      const failure = await run().catch((error: Error) => error);

      const [web, api] = home.history()[1]!.instances;
      const message = `${release} failed at ${step}: ${reason({ web: web!, api: api! }, home)}`;
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe(message);
      expect(home.summary()).toEqual({ ...before.summary, lastRelease: 2 });
      expect(await world()).toEqual(before.world);
      expect(home.history()[1]).toMatchObject({ release: 2, outcome: "failed", error: message });
    });
  }

  it("undoes a failed start only once every other start has ended, so none adds its program after the undo", async () => {
    const old = await homeWithOneRelease();
    const webStarting = home.supervisor.faults.holdOn("start", "web");
    home.supervisor.faults.failOn("start", "api", "spawn failed");
    const release = home.release(["web", "api"]).catch((error: Error) => error);
    const letGo = await webStarting;
    // api's start has failed by now; one turn of the event loop lets the release go as far as it can without web's
    await new Promise(setImmediate);
    letGo();

    expect(await release).toMatchObject({ message: "deploy failed at start: spawn failed" });
    expect((await home.supervisor.status()).map((program) => program.name).sort()).toEqual([old.web, old.api].sort());
  });

  it("routes every switched type back when the second type's switch fails", async () => {
    const old = await homeWithOneRelease();
    home.router.faults.failOn("activate", "api", "HAProxy refused");
    await expect(home.release(["web", "api"])).rejects.toThrow("deploy failed at switch: HAProxy refused");
    const [web] = home.history()[1]!.instances;
    expect(home.router.faults.calls).toEqual([
      `activate ${old.web}`,
      `activate ${old.api}`,
      `activate ${web}`,
      `activate ${home.history()[1]!.instances[1]}`,
      `activate ${old.api}`,
      `activate ${old.web}`,
    ]);
    expect(home.lines.slice(-2)).toEqual([`api: routed back to ${old.api}`, `web: routed back to ${old.web}`]);
    expect(home.router.serving).toEqual(new Map([["web", old.web], ["api", old.api]]));
  });

  it("leaves a new instance to recovery when routing back to the old one fails too, and recovery finishes the undo", async () => {
    const old = await homeWithOneRelease();
    home.router.faults.failOn("activate", "api", "HAProxy refused");
    // web's first activate is its switch, the second routes it back
    home.router.faults.failOn("activate", "web", "the admin socket is gone", 2);
    await expect(home.release(["web", "api"])).rejects.toThrow("deploy failed at switch: HAProxy refused");
    const [web, api] = home.history()[1]!.instances;

    expect(home.summary()).toEqual({
      lastRelease: 2,
      instances: { [old.web]: "active", [old.api]: "active", [web!]: "deploying" },
      routes: { web: old.web, api: old.api },
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map([["web", web], ["api", old.api]]));
    expect(await home.running()).toEqual([old.web, old.api, web].sort());
    expect(home.folders()).toEqual([old.web, old.api, web].sort());
    expect(home.lines.slice(-2)).toEqual([
      `api: routed back to ${old.api}`,
      `web: could not make sure it routes to ${old.web} (the admin socket is gone); the next sarge command will`,
    ]);
    expect(home.history()[1]).toMatchObject({ release: 2, instances: [web, api], outcome: "failed", error: "deploy failed at switch: HAProxy refused" });

    home.lines.length = 0;
    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([
      "web: routed back to its active instance after an interrupted deploy",
      `cleaning up ${web}, left half-made by an interrupted deploy`,
    ]);
    expect(home.summary()).toEqual({ lastRelease: 2, instances: { [old.web]: "active", [old.api]: "active" }, routes: { web: old.web, api: old.api }, pendingRelease: null });
    expect(home.router.serving).toEqual(new Map([["web", old.web], ["api", old.api]]));
    expect(await home.running()).toEqual([old.web, old.api].sort());
    expect(home.folders()).toEqual([old.web, old.api].sort());
    expect(home.history()).toHaveLength(2);
  });

  it("only warns when retiring fails after a completed switch: the release stands and is recorded", async () => {
    const old = await homeWithOneRelease();
    home.supervisor.faults.failOn("stop", old.web, "the supervisor hung up");
    const result = await home.release(["web", "api"]);
    const [web, api] = result.instances.map((instance) => instance.id);

    expect(home.lines).toContain("warning: switched, but retire failed (the supervisor hung up); the next sarge command finishes retiring");
    expectSwitched(old, { web: web!, api: api! });
    // retiring stopped at its first failure: neither replaced instance was stopped, and nothing was undone
    expect(await home.running()).toEqual([old.web, old.api, web, api].sort());
    expect(home.history()[1]).toMatchObject({ release: 2, outcome: "success" });
    expect(home.history()[1]!.error).toBeUndefined();

    home.lines.length = 0;
    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([
      `stopping ${old.web}, replaced by an interrupted deploy but still running`,
      `stopping ${old.api}, replaced by an interrupted deploy but still running`,
    ]);
    expect(await home.running()).toEqual([web, api].sort());
  });

  /** var/history.jsonl made a folder, so appending a line fails; returns what puts it back. */
  function breakHistory(): () => void {
    renameSync(home.paths.history, `${home.paths.history}.aside`);
    mkdirSync(home.paths.history);
    return () => {
      rmdirSync(home.paths.history);
      renameSync(`${home.paths.history}.aside`, home.paths.history);
    };
  }

  it("says why a release failed even when its history line cannot be written, and recovery records it", async () => {
    await homeWithOneRelease();
    const repair = breakHistory();
    home.supervisor.faults.failOn("start", "api", "spawn failed");

    await expect(home.release(["web", "api"])).rejects.toThrow(/^deploy failed at start: spawn failed$/);
    expect(home.lines.at(-1)).toBe(
      `warning: the release failed, and record failed too (EISDIR: illegal operation on a directory, open '${home.paths.history}'); the next sarge command records it in history`,
    );
    expect(home.summary().pendingRelease).toBe(2);

    repair();
    await recoverInterrupted(home.ctx);
    expect(home.summary().pendingRelease).toBeNull();
    expect(home.history()[1]).toMatchObject({ release: 2, outcome: "failed", error: "interrupted: sarge was stopped before the release finished" });
  });

  it("only warns when the history line cannot be written, leaving the release pending for recovery to record", async () => {
    await homeWithOneRelease();
    const repair = breakHistory();
    const result = await home.release(["web", "api"]);
    const [web, api] = result.instances.map((instance) => instance.id);

    expect(home.lines.at(-1)).toBe(
      `warning: switched, but record failed (EISDIR: illegal operation on a directory, open '${home.paths.history}'); the next sarge command records it in history`,
    );
    expect(home.summary()).toMatchObject({ lastRelease: 2, routes: { web, api }, pendingRelease: 2 });

    repair();
    await recoverInterrupted(home.ctx);
    expect(home.summary().pendingRelease).toBeNull();
    expect(home.history().map(({ release, instances, outcome }) => ({ release, instances, outcome }))).toEqual([
      { release: 1, instances: expect.any(Array), outcome: "success" },
      { release: 2, instances: [web, api], outcome: "success" },
    ]);
  });
});
