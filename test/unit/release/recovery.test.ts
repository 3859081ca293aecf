import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { changeInstance } from "../../../src/instance/commands.js";
import { incomingFolder } from "../../../src/release/incoming.js";
import { recoverInterrupted } from "../../../src/release/recovery.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";

describe("recovery of an interrupted release", () => {
  let home: UnitHome;
  afterEach(() => home.destroy());

  /** A home where release 1 made web and api active; returns their ids. */
  async function homeWithOneRelease(): Promise<{ web: string; api: string }> {
    home = await createUnitHome();
    const [web, api] = (await home.release(["web", "api"])).instances.map((instance) => instance.id);
    return { web: web!, api: api! };
  }

  /** Start release 2 of web and api and let sarge be killed where `killed` resolves; returns the ids it was making. */
  async function killedRelease(killed: Promise<void>): Promise<{ web: string; api: string }> {
    void home.release(["web", "api"]);
    await killed;
    const [web, api] = home.state().pendingRelease!.instances;
    home.lines.length = 0;
    return { web: web!, api: api! };
  }

  /** The home exactly as release 1 left it, and release 2 recorded as undone. */
  async function expectBackToReleaseOne(old: { web: string; api: string }): Promise<void> {
    expect(home.summary()).toEqual({ lastRelease: 2, instances: { [old.web]: "active", [old.api]: "active" }, routes: old, pendingRelease: null });
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
    expect(await home.running()).toEqual([old.web, old.api].sort());
    expect(await home.supervisor.status()).toHaveLength(2);
    expect(home.folders()).toEqual([old.web, old.api].sort());
    expect(home.history()[1]).toMatchObject({
      release: 2,
      outcome: "failed",
      error: "interrupted: sarge was stopped before the release finished",
      detail: ["undone by recovery"],
    });
  }

  it("removes the instances a release killed before its switch left half-made, and what it left running for them", async () => {
    const old = await homeWithOneRelease();
    const made = await killedRelease(home.router.faults.killOn("activate", "web"));
    expect(home.summary().instances).toMatchObject({ [made.web]: "deploying", [made.api]: "deploying" });
    expect(await home.running()).toEqual([old.web, old.api, made.web, made.api].sort());
    // as a release hook the killed sarge had started would be: not supervised, it outlives sarge
    const hook = spawn("sleep", ["60"], { cwd: join(home.paths.deploy, made.web), stdio: "ignore" });
    const hookExited = once(hook, "exit");
    try {
      await recoverInterrupted(home.ctx);
      expect(home.lines).toEqual([
        `cleaning up ${made.web}, left half-made by an interrupted deploy`,
        `stopping pid ${hook.pid} (sleep 60), left running for ${made.web} by an interrupted deploy`,
        `cleaning up ${made.api}, left half-made by an interrupted deploy`,
      ]);
      expect(await hookExited).toEqual([null, "SIGTERM"]);
    } finally {
      hook.kill("SIGKILL");
    }
    await expectBackToReleaseOne(old);
  });

  it("switches back a type that a release of two types killed between its switches had switched", async () => {
    const old = await homeWithOneRelease();
    const made = await killedRelease(home.router.faults.killOn("activate", "api"));
    expect(home.summary()).toMatchObject({
      instances: { [old.web]: "kept", [old.api]: "active", [made.web]: "active", [made.api]: "deploying" },
      routes: { web: made.web, api: old.api },
      pendingRelease: 2,
    });

    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([
      `web: back to ${old.web}; release 2 was interrupted before every process type switched`,
      "web: routed back to its active instance after an interrupted deploy",
      `cleaning up ${made.web}, left half-made by an interrupted deploy`,
      `cleaning up ${made.api}, left half-made by an interrupted deploy`,
    ]);
    await expectBackToReleaseOne(old);
  });

  it("removes all a first release of two types killed between its switches made, the switched type's instance too", async () => {
    home = await createUnitHome();
    const made = await killedRelease(home.router.faults.killOn("activate", "api"));
    expect(home.summary().instances).toEqual({ [made.web]: "active", [made.api]: "deploying" });

    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([
      `cleaning up ${made.web}, left half-made by an interrupted deploy`,
      `cleaning up ${made.api}, left half-made by an interrupted deploy`,
    ]);
    expect(home.summary()).toMatchObject({ lastRelease: 1, instances: {}, pendingRelease: null });
    expect(await home.supervisor.status()).toEqual([]);
    expect(home.folders()).toEqual([]);
    expect(home.history()).toMatchObject([{ release: 1, outcome: "failed", detail: ["undone by recovery"] }]);
  });

  it("stops what a release killed while retiring had replaced, leaves a kept instance started by hand running, and records the release's success", async () => {
    home = await createUnitHome();
    const [byHand] = (await home.release(["web"])).instances;
    const [replaced] = (await home.release(["web"])).instances;
    await changeInstance(home.ctx, "start", byHand!.id);
    void home.release(["web"]);
    await home.supervisor.faults.killOn("stop", replaced!.id);
    const [made] = home.state().pendingRelease!.instances;
    home.lines.length = 0;

    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([`stopping ${replaced!.id}, replaced by an interrupted deploy but still running`]);
    expect(home.summary()).toEqual({
      lastRelease: 3,
      instances: { [byHand!.id]: "kept", [replaced!.id]: "kept", [made!]: "active" },
      routes: { web: made },
      pendingRelease: null,
    });
    expect(await home.running()).toEqual([byHand!.id, made].sort());
    expect(home.history()[2]).toMatchObject({ release: 3, outcome: "success", detail: ["finished by recovery after sarge was stopped during retire"] });
    expect(home.history()[2]!.error).toBeUndefined();
  });

  it("removes folders under deploy/ that no instance owns and uploads whose deploy is gone, not one still being received", async () => {
    const old = await homeWithOneRelease();
    const stray = "web-zz9zz9";
    mkdirSync(join(home.paths.deploy, stray));
    writeFileSync(join(home.paths.deploy, stray, "Procfile"), "web: serve-web\n");
    const abandoned = `.incoming-${spawnSync("true").pid}-1-0badf00d`;
    mkdirSync(join(home.paths.deploy, abandoned));
    const receiving = basename(incomingFolder(home.paths));
    mkdirSync(join(home.paths.deploy, receiving));
    home.lines.length = 0;

    await recoverInterrupted(home.ctx);
    expect(home.lines.sort()).toEqual([`removing deploy/${abandoned}, which no instance owns`, `removing deploy/${stray}, which no instance owns`]);
    expect(home.folders()).toEqual([receiving, old.web, old.api].sort());
  });

  it("starts the active instances and HAProxy under a new supervisor", async () => {
    const old = await homeWithOneRelease();
    await home.reboot();
    home.lines.length = 0;

    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([
      `starting ${old.web}: it is active but its supervisor does not know it (a new or switched supervisor)`,
      `starting ${old.api}: it is active but its supervisor does not know it (a new or switched supervisor)`,
      "started HAProxy with the routes of the active instances",
    ]);
    expect(await home.running()).toEqual([old.web, old.api].sort());
    expect(home.router.serving).toEqual(new Map(Object.entries(old)));
  });

  it("changes nothing in a home a release left in order", async () => {
    const old = await homeWithOneRelease();
    const before = home.state();
    home.lines.length = 0;

    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([]);
    expect(home.state()).toEqual(before);
    expect(await home.running()).toEqual([old.web, old.api].sort());
  });
});
