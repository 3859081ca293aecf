import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquirePidFile } from "../../../../src/supervise/builtin/pid-file.js";

describe("supervisor pid file", () => {
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-pid-"));
    file = join(dir, "supervisor.pid");
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  /** A live process whose command line looks like a supervisor daemon's. */
  async function fakeDaemon(): Promise<number> {
    const child = spawn("bash", ["-c", "exec -a supervisord sleep 100"], { stdio: "ignore" });
    children.push(child);
    await new Promise((resolve) => child.once("spawn", resolve));
    for (let tries = 0; tries < 100 && !readFileSync(`/proc/${child.pid}/cmdline`, "utf8").startsWith("supervisord"); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return child.pid!;
  }

  it("is created with our pid and removed on release", () => {
    const result = acquirePidFile(file);
    expect(result.acquired).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`${process.pid}\n`);
    if (result.acquired) result.release();
    expect(existsSync(file)).toBe(false);
  });

  it("is not taken from a live daemon", async () => {
    const holder = await fakeDaemon();
    writeFileSync(file, `${holder}\n`);
    expect(acquirePidFile(file)).toEqual({ acquired: false, holder });
    expect(readFileSync(file, "utf8")).toBe(`${holder}\n`);
  });

  it("is taken over from a dead daemon, or from a pid now used by an unrelated process", async () => {
    writeFileSync(file, "999999999\n");
    expect(acquirePidFile(file).acquired).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`${process.pid}\n`);

    const unrelated = spawn("sleep", ["100"], { stdio: "ignore" });
    children.push(unrelated);
    await new Promise((resolve) => unrelated.once("spawn", resolve));
    writeFileSync(file, `${unrelated.pid}\n`);
    expect(acquirePidFile(file).acquired).toBe(true);
    expect(readdirSync(dir)).toEqual(["supervisor.pid"]);
  });

  it("release leaves a file that is not ours", () => {
    const result = acquirePidFile(file);
    writeFileSync(file, "12345\n");
    if (result.acquired) result.release();
    expect(readFileSync(file, "utf8")).toBe("12345\n");
  });
});
