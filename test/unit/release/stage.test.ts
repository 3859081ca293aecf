import { appendFileSync, existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/home/config.js";
import { changeInstance } from "../../../src/instance/commands.js";
import { activateRelease } from "../../../src/release/activate.js";
import { discardRelease } from "../../../src/release/discard.js";
import { recoverInterrupted } from "../../../src/release/recovery.js";
import { StepCancelled } from "../../../src/release/steps.js";
import { tcpProbe } from "../../../src/util/tcp-probe.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";

type Pair = { web: string; api: string };

describe("staged releases (deploy --stage, activate, discard)", () => {
  let home: UnitHome;
  afterEach(() => home.destroy());

  /** Release 1 active (web and api), release 2 staged; returns both pairs of ids. */
  async function homeWithStagedRelease(): Promise<{ old: Pair; staged: Pair; ports: number[] }> {
    home = await createUnitHome();
    const [web, api] = (await home.release(["web", "api"])).instances.map((instance) => instance.id);
    const result = await home.stage(["web", "api"]);
    const [sweb, sapi] = result.instances.map((instance) => instance.id);
    home.lines.length = 0;
    return { old: { web: web!, api: api! }, staged: { web: sweb!, api: sapi! }, ports: result.instances.map((instance) => instance.port) };
  }

  it("stages a release: ready on its own ports and running, not routed, recorded as a stage, the lock released", async () => {
    const { old, staged, ports } = await homeWithStagedRelease();

    expect(home.summary()).toEqual({
      lastRelease: 2,
      instances: { [old.web]: "active", [old.api]: "active", [staged.web]: "staged", [staged.api]: "staged" },
      routes: old,
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(await home.running()).toEqual([old.web, old.api, staged.web, staged.api].sort());
    for (const port of ports) expect(await tcpProbe(port)).toBeNull();
    expect(home.history()[1]).toMatchObject({ release: 2, kind: "stage", instances: [staged.web, staged.api], outcome: "success" });
    expect(home.history()[1]!.push).toBeUndefined();
    expect(existsSync(home.paths.deployLock)).toBe(false);
  });

  it("activates a staged release without starting it again: switched in, the old release kept and stopped", async () => {
    const { old, staged, ports } = await homeWithStagedRelease();
    const starts = () => home.supervisor.faults.calls.filter((call) => call.startsWith("start "));
    const before = starts();

    const result = await activateRelease(home.ctx, 2);
    expect(result).toMatchObject({ release: 3, activated: 2, commit: "c0ffee", instances: [{ id: staged.web, port: ports[0] }, { id: staged.api, port: ports[1] }] });
    expect(starts()).toEqual(before);
    expect(home.summary()).toEqual({
      lastRelease: 3,
      instances: { [old.web]: "kept", [old.api]: "kept", [staged.web]: "active", [staged.api]: "active" },
      routes: staged,
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map(Object.entries(staged)));
    expect(await home.running()).toEqual([staged.web, staged.api].sort());
    expect(home.history()[2]).toMatchObject({
      release: 3,
      kind: "activate",
      instances: [staged.web, staged.api],
      outcome: "success",
      detail: ["release 2", `from ${old.web}, ${old.api}`],
    });
    expect(home.lines).toContain(`${old.web}: stopped, kept for rollback`);
  });

  it("tells the caller once every switch is done, before the old release is retired and the activation recorded", async () => {
    const { old, staged, ports } = await homeWithStagedRelease();
    const seen: Array<{ result: unknown; routes: unknown; linesSaid: number; recorded: number }> = [];
    await activateRelease(home.ctx, 2, [], false, {
      switched: (result) => void seen.push({ result, routes: home.summary().routes, linesSaid: home.lines.length, recorded: home.history().length }),
    });
    expect(seen).toEqual([
      {
        result: { release: 3, commit: "c0ffee", instances: [{ id: staged.web, proc: "web", port: ports[0] }, { id: staged.api, proc: "api", port: ports[1] }], switchMs: expect.any(Object) },
        routes: staged,
        linesSaid: expect.any(Number),
        recorded: 2,
      },
    ]);
    // retired after the caller was told
    expect(home.lines.indexOf(`${old.web}: stopped, kept for rollback`)).toBeGreaterThanOrEqual(seen[0]!.linesSaid);
    expect(home.history()).toHaveLength(3);
  });

  it("checks readiness again after a held switch: an instance that stopped while held fails the activation, the old release serves", async () => {
    const { old, staged } = await homeWithStagedRelease();
    await expect(activateRelease(home.ctx, 2, [], false, { beforeSwitch: async () => void (await home.supervisor.stop(staged.web)) })).rejects.toThrow(
      `activate failed at readiness: ${staged.web} `,
    );
    expect(home.summary()).toMatchObject({ routes: old, pendingRelease: null });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
  });

  it("holds the switch of an overlap: never type before its running instance stops: while held it still runs, and an abort stops nothing", async () => {
    const { old } = await homeWithStagedRelease();
    appendFileSync(home.paths.config, "processes:\n  web:\n    overlap: never\n");
    home.ctx.config = loadConfig(home.paths);
    let runningWhileHeld: string[] = [];
    const held = async () => {
      runningWhileHeld = await home.running();
      throw new StepCancelled("switch");
    };
    await expect(activateRelease(home.ctx, 2, [], false, { beforeSwitch: held })).rejects.toThrow("activate cancelled at switch");
    expect(runningWhileHeld).toContain(old.web);
    expect(await home.running()).toContain(old.web);
    expect(home.lines.filter((line) => line.includes("stopping before"))).toEqual([]);
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
  });

  it("activates a kept release like a rollback of every type it has", async () => {
    const { old, staged } = await homeWithStagedRelease();
    await activateRelease(home.ctx, 2);

    await activateRelease(home.ctx, 1);
    expect(home.summary().instances).toEqual({ [old.web]: "active", [old.api]: "active", [staged.web]: "kept", [staged.api]: "kept" });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(home.lines).toContain(`${old.web}: kept, starting it again (release 1)`);
  });

  it("activates only the process types it is given: a kept release's other types stay where they are", async () => {
    const { old, staged } = await homeWithStagedRelease();
    await activateRelease(home.ctx, 2);
    const [api] = (await home.release(["api"])).instances;

    await activateRelease(home.ctx, 1, ["web"]);
    expect(home.summary().instances).toMatchObject({ [old.web]: "active", [old.api]: "kept", [staged.web]: "kept", [api!.id]: "active" });
    expect(home.history().at(-1)).toMatchObject({ kind: "activate", procs: ["web"], instances: [old.web] });
    await expect(activateRelease(home.ctx, 4, ["web"])).rejects.toThrow(`release 4 has no web instance (it has ${api!.id})`);
    await expect(activateRelease(home.ctx, 1, ["web"])).rejects.toThrow(`release 1 is already active (${old.web})`);
  });

  it("starts a staged instance that stopped meanwhile again before switching to it", async () => {
    const { staged } = await homeWithStagedRelease();
    await home.supervisor.stop(staged.web);

    await activateRelease(home.ctx, 2);
    expect(home.lines[0]).toBe(`${staged.web}: staged but not running (stopped); starting it again`);
    expect(home.router.serving).toEqual(new Map(Object.entries(staged)));
    expect(await home.running()).toEqual([staged.web, staged.api].sort());
  });

  it("says how to route to a staged instance started by hand", async () => {
    const { staged } = await homeWithStagedRelease();
    await home.supervisor.stop(staged.web);
    const port = home.state().instances[staged.web]!.port;
    expect(await changeInstance(home.ctx, "start", staged.web)).toBe(`${staged.web}: started on port ${port} (not routed: use \`sarge activate 2\` to route to it)`);
    expect(home.state().instances[staged.web]).toMatchObject({ state: "staged" });
  });

  it("refuses a staged instance that does not come up again: the old release serves, the staged one stays staged", async () => {
    const { old, staged } = await homeWithStagedRelease();
    await home.supervisor.stop(staged.web);
    home.supervisor.crashOnStart(staged.web);

    await expect(activateRelease(home.ctx, 2)).rejects.toThrow(`activate failed at readiness: ${staged.web} the process exited (exit 1) before it was ready`);
    expect(home.summary()).toMatchObject({
      instances: { [old.web]: "active", [old.api]: "active", [staged.web]: "staged", [staged.api]: "staged" },
      routes: old,
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(await home.running()).toContain(staged.api);
    expect(home.history()[2]).toMatchObject({ release: 3, kind: "activate", outcome: "failed" });
  });

  it("routes back when a switch fails: the staged release stays staged and running", async () => {
    const { old, staged } = await homeWithStagedRelease();
    home.router.faults.failOn("activate", staged.api, "HAProxy refused");

    await expect(activateRelease(home.ctx, 2)).rejects.toThrow("activate failed at switch: HAProxy refused");
    expect(home.summary().instances).toEqual({ [old.web]: "active", [old.api]: "active", [staged.web]: "staged", [staged.api]: "staged" });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(await home.running()).toEqual([old.web, old.api, staged.web, staged.api].sort());
  });

  it("says why it cannot activate a release that is active or that does not exist", async () => {
    const { old, staged } = await homeWithStagedRelease();

    await expect(activateRelease(home.ctx, 1)).rejects.toThrow(`release 1 is already active (${old.web}, ${old.api})`);
    await expect(activateRelease(home.ctx, 9)).rejects.toThrow(`no staged or kept release 9 to activate; staged: 2 (${staged.web}, ${staged.api}); kept: none`);
    expect(home.summary().lastRelease).toBe(2);
  });

  it("discards a staged release: its programs, folders and logs go, the active release is untouched", async () => {
    const { old, staged } = await homeWithStagedRelease();

    expect(await discardRelease(home.ctx, 2)).toEqual({ release: 2, instances: [staged.web, staged.api] });
    expect(home.summary()).toMatchObject({ instances: { [old.web]: "active", [old.api]: "active" }, routes: old });
    expect(await home.supervisor.status()).toHaveLength(2);
    expect(home.folders()).toEqual([old.web, old.api].sort());
    expect(home.lines).toEqual([`${staged.web}: stopped and removed`, `${staged.api}: stopped and removed`]);
  });

  it("refuses to discard an active release, or one that is not staged", async () => {
    const { old } = await homeWithStagedRelease();
    await activateRelease(home.ctx, 2);

    await expect(discardRelease(home.ctx, 2)).rejects.toThrow(/^release 2 is active \(web-\w+, api-\w+\): only a staged release can be discarded$/);
    await expect(discardRelease(home.ctx, 1)).rejects.toThrow(`no staged release 1 to discard; staged: none; kept: 1 (${old.web}, ${old.api})`);
    await expect(discardRelease(home.ctx, 7)).rejects.toThrow("no staged release 7 to discard");
    expect(home.summary().instances).toMatchObject({ [old.web]: "kept" });
  });

  it("prunes a staged release that a later stage or switch of its types superseded", async () => {
    const { staged } = await homeWithStagedRelease();
    const [next] = (await home.stage(["web"])).instances;
    expect(home.lines).toContain(`${staged.web}: destroyed (staged by release 2, superseded by ${next!.id} of release 3)`);
    expect(home.state().instances[staged.api]?.state).toBe("staged");

    const [deployed] = (await home.release(["web"])).instances;
    expect(home.lines).toContain(`${next!.id}: destroyed (staged by release 3, superseded by ${deployed!.id} of release 4)`);
    expect(home.state().instances[next!.id]).toBeUndefined();
    expect(home.state().instances[staged.api]?.state).toBe("staged");
    expect(await home.running()).not.toContain(next!.id);
  });

  it("keeps staged instances running across a supervisor restart: recovery starts them again", async () => {
    const { old, staged } = await homeWithStagedRelease();
    await home.reboot();

    await recoverInterrupted(home.ctx);
    expect(home.lines).toContain(`starting ${staged.web}: it is staged but its supervisor does not know it (a new or switched supervisor)`);
    expect(await home.running()).toEqual([old.web, old.api, staged.web, staged.api].sort());
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
  });

  it("records a stage killed after its instances were staged (while pruning) as a success", async () => {
    home = await createUnitHome();
    const [first] = (await home.stage(["web"])).instances;
    const killed = home.supervisor.faults.killOn("remove", first!.id);
    void home.stage(["web"]);
    await killed;
    const [made] = home.state().pendingRelease!.instances;
    expect(home.summary().instances).toMatchObject({ [made!]: "staged" });

    await recoverInterrupted(home.ctx);
    expect(home.summary()).toMatchObject({ instances: { [made!]: "staged" }, pendingRelease: null });
    expect(home.history()[1]).toMatchObject({ release: 2, kind: "stage", outcome: "success", detail: ["finished by recovery after sarge was stopped during retire"] });
  });

  it("undoes an activate of two types killed between its switches: the switched type goes back, the release stays staged", async () => {
    const { old, staged } = await homeWithStagedRelease();
    void activateRelease(home.ctx, 2);
    await home.router.faults.killOn("activate", staged.api);
    expect(home.summary().instances).toMatchObject({ [staged.web]: "active", [old.web]: "kept" });

    await recoverInterrupted(home.ctx);
    expect(home.lines).toContain(`web: back to ${old.web}; release 3 was interrupted before every process type switched`);
    expect(home.summary()).toEqual({
      lastRelease: 3,
      instances: { [old.web]: "active", [old.api]: "active", [staged.web]: "staged", [staged.api]: "staged" },
      routes: old,
      pendingRelease: null,
    });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(await home.running()).toEqual([old.web, old.api, staged.web, staged.api].sort());
    expect(home.history()[2]).toMatchObject({ release: 3, kind: "activate", outcome: "failed", detail: ["release 2", `from ${old.web}, ${old.api}`, "undone by recovery"] });
  });

  describe("a push id", () => {
    afterEach(() => {
      delete process.env.SARGE_PUSH_ID;
    });

    it("is recorded on every history line written with SARGE_PUSH_ID", async () => {
      home = await createUnitHome();
      process.env.SARGE_PUSH_ID = "2026-12-06T19.00_a-b";
      await home.stage(["web"]);
      await activateRelease(home.ctx, 1);
      expect(home.history().map((entry) => [entry.kind, entry.push])).toEqual([
        ["stage", "2026-12-06T19.00_a-b"],
        ["activate", "2026-12-06T19.00_a-b"],
      ]);
    });

    it("is refused before anything changes when it is not 1 to 64 safe characters", async () => {
      const { old } = await homeWithStagedRelease();
      const before = home.state();
      for (const bad of ["a b", "x".repeat(65), "push;rm", "über"]) {
        process.env.SARGE_PUSH_ID = bad;
        await expect(activateRelease(home.ctx, 2)).rejects.toThrow(
          `SARGE_PUSH_ID ${JSON.stringify(bad)} is not a push id: expected 1 to 64 letters, digits, dots, underscores or hyphens`,
        );
      }
      expect(home.state()).toEqual(before);
      expect(home.router.serving).toEqual(new Map(Object.entries(old)));
      expect(home.history()).toHaveLength(2);
    });
  });
});
