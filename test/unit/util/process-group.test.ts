import { execFileSync, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { groupAlive, terminateGroup } from "../../../src/util/process-group.js";
import { waitFor } from "../../support/wait.js";

const leaders: number[] = [];

/** A shell in its own process group, like the supervisor starts programs; resolves once the group has `size` live members (it forked, after its traps). */
async function group(script: string, size: number): Promise<number> {
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  leaders.push(child.pid!);
  await waitFor(() => members(child.pid!) === size, `${size} processes in the group of ${script}`);
  return child.pid!;
}

/** Live members counted with ps, independently of the code under test. */
function members(pgid: number): number {
  const script = `ps -e -o pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/' | wc -l`;
  return Number(execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim());
}

describe("process groups", () => {
  afterEach(() => {
    for (const pgid of leaders.splice(0)) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });

  it("terminates a forking group with its stop signal and resolves only when it is empty", async () => {
    const pgid = await group("sleep 100 & sleep 100 & wait", 3);
    expect(members(pgid)).toBe(3);
    expect(groupAlive(pgid)).toBe(true);
    const began = Date.now();
    await terminateGroup(pgid, "SIGTERM", 5_000);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(groupAlive(pgid)).toBe(false);
    expect(members(pgid)).toBe(0);
  });

  it("sends SIGKILL after the grace period to a group that ignores the signal", async () => {
    const pgid = await group(`trap "" TERM; sleep 100 & wait`, 2);
    const began = Date.now();
    await terminateGroup(pgid, "SIGTERM", 400);
    expect(Date.now() - began).toBeGreaterThanOrEqual(400);
    expect(members(pgid)).toBe(0);
  });

  it("does nothing for an empty group", async () => {
    await expect(terminateGroup(999_999_999, "SIGTERM", 1_000)).resolves.toBeUndefined();
    expect(groupAlive(999_999_999)).toBe(false);
  });
});
