import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { identify, readStartTime } from "../../../../src/supervise/builtin/process-identity.js";

describe("process identity", () => {
  it("identifies a process by pid and start time", async () => {
    const child = spawn("sleep", ["100"], { stdio: "ignore" });
    await new Promise((resolve) => child.once("spawn", resolve));
    const pid = child.pid!;
    const startTime = readStartTime(pid);
    expect(identify(pid, startTime)).toBe("alive");
    expect(identify(pid, String(Number(startTime) + 1))).toBe("reused");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(pid, "SIGKILL");
    await exited;
    expect(identify(pid, startTime)).toBe("gone");
    expect(identify(999_999_999, startTime)).toBe("gone");
  });
});
