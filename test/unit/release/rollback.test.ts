import { afterEach, describe, expect, it } from "vitest";
import { recoverInterrupted } from "../../../src/release/recovery.js";
import { rollback } from "../../../src/release/rollback.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";

describe("rollback as a release", () => {
  let home: UnitHome;
  afterEach(() => home.destroy());

  /** Two releases of web: `kept` is release 1's instance (stopped), `active` release 2's. */
  async function homeWithTwoReleases(): Promise<{ kept: string; active: string }> {
    home = await createUnitHome();
    const [kept] = (await home.release(["web"])).instances;
    const [active] = (await home.release(["web"])).instances;
    home.lines.length = 0;
    return { kept: kept!.id, active: active!.id };
  }

  it("starts the kept instance on its own port, switches to it, and keeps the one it replaces", async () => {
    const { kept, active } = await homeWithTwoReleases();
    const port = home.state().instances[kept]!.port;

    expect(await rollback(home.ctx, "web")).toMatchObject({ release: 3, proc: "web", from: active, to: kept });
    expect(home.summary()).toEqual({ lastRelease: 3, instances: { [kept]: "active", [active]: "kept" }, routes: { web: kept }, pendingRelease: null });
    expect(home.state().instances[kept]!.port).toBe(port);
    expect(home.router.serving).toEqual(new Map([["web", kept]]));
    expect(await home.running()).toEqual([kept]);
    expect(home.folders()).toEqual([kept, active].sort());
    expect(home.history()[2]).toMatchObject({ release: 3, kind: "rollback", instances: [kept], outcome: "success", detail: [`from ${active}`, `to ${kept} (release 1)`] });
    expect(home.lines[0]).toBe(`rolling web back to ${kept} (release 1)`);
  });

  it("refuses before anything changes when there is no kept instance", async () => {
    home = await createUnitHome();
    const [active] = (await home.release(["web"])).instances;
    const before = home.state();

    await expect(rollback(home.ctx, "web")).rejects.toThrow(`no kept web instance to roll back to (${active!.id} is active)`);
    expect(home.state()).toEqual(before);
    expect(home.history()).toHaveLength(1);
  });

  it("says 'rollback failed at start' when its target cannot start, and leaves it kept and stopped", async () => {
    const { kept, active } = await homeWithTwoReleases();
    home.supervisor.faults.failOn("start", kept, "spawn failed");

    await expect(rollback(home.ctx, "web")).rejects.toThrow(/^rollback failed at start: spawn failed$/);
    expect(home.summary()).toEqual({ lastRelease: 3, instances: { [kept]: "kept", [active]: "active" }, routes: { web: active }, pendingRelease: null });
    expect(await home.supervisor.statusOf(kept)).toMatchObject({ state: "stopped", wanted: false });
    expect(await home.running()).toEqual([active]);
    expect(home.folders()).toEqual([kept, active].sort());
    expect(home.history()[2]).toMatchObject({ release: 3, kind: "rollback", outcome: "failed", error: "rollback failed at start: spawn failed" });
  });

  it("stops its target again when it started but never became ready", async () => {
    const { kept, active } = await homeWithTwoReleases();
    home.supervisor.crashOnStart(kept);

    await expect(rollback(home.ctx, "web")).rejects.toThrow(`rollback failed at readiness: ${kept} the process exited (exit 1) before it was ready`);
    expect(home.summary()).toEqual({ lastRelease: 3, instances: { [kept]: "kept", [active]: "active" }, routes: { web: active }, pendingRelease: null });
    expect(await home.supervisor.statusOf(kept)).toMatchObject({ state: "stopped", wanted: false });
    expect(await home.running()).toEqual([active]);
  });

  it("routes back and stops its target when the switch fails", async () => {
    const { kept, active } = await homeWithTwoReleases();
    home.router.faults.failOn("activate", kept, "HAProxy refused");

    await expect(rollback(home.ctx, "web")).rejects.toThrow("rollback failed at switch: HAProxy refused");
    expect(home.lines.slice(-1)).toEqual([`web: routed back to ${active}`]);
    expect(home.summary()).toEqual({ lastRelease: 3, instances: { [kept]: "kept", [active]: "active" }, routes: { web: active }, pendingRelease: null });
    expect(home.router.serving).toEqual(new Map([["web", active]]));
    expect(await home.running()).toEqual([active]);
  });

  it("leaves its target kept but running when routing back fails too, for recovery to stop", async () => {
    const { kept, active } = await homeWithTwoReleases();
    home.router.faults.failOn("activate", kept, "HAProxy refused");
    home.router.faults.failOn("activate", active, "the admin socket is gone");

    await expect(rollback(home.ctx, "web")).rejects.toThrow("rollback failed at switch: HAProxy refused");
    expect(home.lines.slice(-1)).toEqual([`web: could not make sure it routes to ${active} (the admin socket is gone); the next sarge command will`]);
    expect(home.summary()).toEqual({ lastRelease: 3, instances: { [kept]: "kept", [active]: "active" }, routes: { web: active }, pendingRelease: null });
    expect(await home.running()).toEqual([kept, active].sort());

    home.lines.length = 0;
    await recoverInterrupted(home.ctx);
    expect(home.lines).toEqual([`stopping ${kept}, replaced by an interrupted deploy but still running`]);
    expect(await home.running()).toEqual([active]);
    expect(home.folders()).toEqual([kept, active].sort());
  });
});
