import { describe, expect, it } from "vitest";
import { homePaths } from "../../../src/home/paths.js";
import { resolveHaproxyBin } from "../../../src/haproxy/binary.js";
import { haproxyProgram } from "../../../src/haproxy/program.js";
import { HARD_STOP_AFTER_MS } from "../../../src/haproxy/types.js";

describe("haproxyProgram", () => {
  it("runs master-worker in the foreground from absolute paths, exec'd, stopped softly", () => {
    const paths = homePaths("/srv/app");
    const spec = haproxyProgram(paths, "haproxy");
    expect(spec.name).toBe("haproxy");
    expect(spec.command).toBe(
      `exec ${resolveHaproxyBin("haproxy")} -W ` +
        "-db -f /srv/app/etc/haproxy/haproxy.cfg -p /srv/app/var/run/haproxy.pid" +
        " -S /srv/app/var/run/haproxy-master.sock,mode,600",
    );
    expect(spec.cwd).toBe("/srv/app");
    expect(spec.logFile).toBe("/srv/app/var/log/haproxy.log");
    expect(spec.stopSignal).toBe("SIGUSR1");
    expect(spec.stopTimeoutMs).toBeGreaterThan(HARD_STOP_AFTER_MS);
    expect(spec.env.PATH).toContain("/usr/sbin");
  });

  it("names a missing binary", () => {
    expect(() => haproxyProgram(homePaths("/srv/app"), "no-such-haproxy")).toThrow(/"no-such-haproxy"/);
  });
});
