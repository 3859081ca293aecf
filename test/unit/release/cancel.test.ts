import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ReleaseCancel } from "../../../src/release/cancel.js";
import { deploy } from "../../../src/release/deploy.js";
import { withHomeLock } from "../../../src/release/transaction.js";
import { ReleaseCancelledError } from "../../../src/util/errors.js";
import { processTree } from "../../../src/util/process-tree.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";
import { waitFor } from "../../support/wait.js";

describe("cancelling a release", () => {
  let home: UnitHome;
  let cancel: ReleaseCancel;
  afterEach(() => home.destroy());

  /** A home where release 1 made web active; the next release can be cancelled through `cancel`. */
  async function homeWithOneRelease(options?: Parameters<typeof createUnitHome>[0]): Promise<string> {
    home = await createUnitHome(options);
    const [web] = (await home.release(["web"])).instances;
    home.lines.length = 0;
    cancel = new ReleaseCancel();
    home.ctx.cancel = cancel;
    return web!.id;
  }

  /** Release 2 was cancelled: undone as a failure is, and recorded as cancelled. */
  function expectUndone(old: string, step: string): void {
    expect(home.summary()).toEqual({ lastRelease: 2, instances: { [old]: "active" }, routes: { web: old }, pendingRelease: null });
    expect(home.router.serving).toEqual(new Map([["web", old]]));
    expect(home.folders()).toEqual([old]);
    expect(home.history()[1]).toMatchObject({ release: 2, outcome: "cancelled", error: `deploy cancelled at ${step}` });
  }

  it("stops at the next step once the cancel is asked for, undoes what it made and exits 5", async () => {
    const old = await homeWithOneRelease();
    const letGo = home.supervisor.faults.holdOn("start", "web");
    const releasing = home.release(["web"]);
    (await letGo)();
    expect(cancel.request()).toBe(true);

    const error = await releasing.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ReleaseCancelledError);
    expect(error).toMatchObject({ message: "deploy cancelled at readiness", exitCode: 5 });
    expectUndone(old, "readiness");
    expect(await home.running()).toEqual([old]);
  });

  it("interrupts the readiness wait instead of waiting it out", async () => {
    home = await createUnitHome({ routed: ["web"], healthTimeout: "5s" });
    await home.release(["worker"]);
    cancel = new ReleaseCancel();
    home.ctx.cancel = cancel;
    const releasing = home.release(["worker"]);
    await waitFor(async () => (await home.running()).length === 2, "the new worker to run");
    cancel.request();

    // a worker counts as ready once it stayed up 1.5 s: had the wait run out, the cancel would come at the switch
    await expect(releasing).rejects.toThrow("deploy cancelled at readiness");
    expect(await home.running()).toHaveLength(1);
  });

  it("stops the release hook and what it started", async () => {
    const old = await homeWithOneRelease();
    const pidFile = join(home.paths.root, "hook.pid");
    const deploying = home.deploy(["web"], { Procfile: `web: serve-web\nrelease: sleep 60 & echo $$ $! > ${pidFile}; wait; echo finished\n` });
    const started = await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim(), "the release hook to start");
    const [shell, sleeping] = String(started).split(" ").map(Number);
    cancel.request();

    await expect(deploying).rejects.toThrow("deploy cancelled at release");
    // the sleep would outlive a signal to the shell alone by a minute
    await waitFor(() => processTree(shell!).length === 0 && processTree(sleeping!).length === 0, "the hook and its sleep to end", 5000);
    expectUndone(old, "release");
  });

  it("removes the incoming folder when cancelled while the archive arrives, before any release number", async () => {
    const old = await homeWithOneRelease();
    const upload = new PassThrough();
    const deploying = deploy(home.ctx, upload, ["web"]);
    await waitFor(() => readdirSync(home.paths.deploy).some((name) => name.startsWith(".incoming-")), "the incoming folder");
    cancel.request();

    await expect(deploying).rejects.toThrow("deploy cancelled at unpack");
    expect(home.folders()).toEqual([old]);
    expect(home.summary().lastRelease).toBe(1);
    expect(home.history()).toHaveLength(1);
  });

  it("stops waiting for the deploy lock", async () => {
    await homeWithOneRelease();
    let unlock = () => undefined as void;
    const held = withHomeLock(home.ctx, "a test holding the lock", () => new Promise<void>((resolve) => (unlock = resolve)));
    const releasing = home.release(["web"]);
    await waitFor(() => home.lines.some((line) => line.startsWith("waiting for the deploy lock")), "the release to wait for the lock");
    cancel.request();

    await expect(releasing).rejects.toThrow("deploy cancelled at lock");
    expect(home.summary().lastRelease).toBe(1);
    unlock();
    await held;
  });

  it("refuses the cancel once the switch has begun, and the release finishes", async () => {
    const old = await homeWithOneRelease();
    const letGo = home.router.faults.holdOn("activate", "web");
    const releasing = home.release(["web"]);
    const resume = await letGo;

    expect(home.state().pendingRelease?.switchingSince).toEqual(expect.any(String));
    expect(cancel.request()).toBe(false);
    resume();
    const [made] = (await releasing).instances;
    expect(home.summary()).toMatchObject({ instances: { [old]: "kept", [made!.id]: "active" }, pendingRelease: null });
    expect(home.history()[1]).toMatchObject({ outcome: "success" });
    expect(home.history()[1]).not.toHaveProperty("switchingSince");
  });
});
