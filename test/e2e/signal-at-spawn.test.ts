import { describe, expect, it } from "vitest";
import { createTestHome } from "../support/home.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { signalAfterSpawn } from "../support/signals.js";
import { project, sarge } from "./local-support.js";

/**
 * A signal that reaches sarge right after it spawned the child it waits for
 * (a Ctrl-C typed as the command starts) is handled like any later one: sarge
 * listens before it spawns. Each case fails with "killed by the signal" when
 * the listener is installed after spawn().
 */
describe("a signal right after sarge spawns its child", () => {
  it("sarge local run: a SIGINT is ignored, the command's status is reported", async () => {
    const result = await sarge(["local", "run", "sh", "-c", "echo ran"], { cwd: project(), env: signalAfterSpawn("SIGINT", "/bin/sh") });
    expect(result).toMatchObject({ code: 0, signal: null, stdout: "ran\n" });
  });

  describe("in a home", () => {
    const home = useDeployedHome();

    it("sarge run: a SIGINT is ignored, bash's status is reported", async () => {
      const result = await home.sarge(["run", "web", "echo ran; exit 4"], { env: signalAfterSpawn("SIGINT", "bash") });
      expect(result).toMatchObject({ code: 4, signal: null, stdout: "ran\n" });
    });
  });

  it("sarge supervisord (supervisord backend): a SIGTERM is passed on, supervisord stops and sarge exits 0", async () => {
    const home = await createTestHome({ supervisor: "supervisord", withGreetingWheel: false });
    try {
      const result = await home.sarge(["supervisord"], { env: signalAfterSpawn("SIGTERM", "supervisord") });
      expect([result.code, result.signal], result.stderr).toEqual([0, null]);
    } finally {
      expect(await home.destroy()).toEqual([]);
    }
  });
});
