import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireHomeLock, readHolder, type LockHolder } from "../../../src/release/lock.js";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";

describe("the home's deploy lock", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-lock-")));
    mkdirSync(paths.run, { recursive: true });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  const quiet = { waiting: () => undefined, takeover: () => undefined };

  it("records who holds it and releases it", async () => {
    const lock = await acquireHomeLock(paths, "sarge deploy web", quiet);
    expect(readHolder(paths.deployLock)).toMatchObject({ pid: process.pid, command: "sarge deploy web" });
    lock.release();
    expect(existsSync(paths.deployLock)).toBe(false);
  });

  it("makes a second taker wait, saying who holds it", async () => {
    const first = await acquireHomeLock(paths, "sarge deploy web", quiet);
    const seen: LockHolder[] = [];
    const second = acquireHomeLock(paths, "sarge deploy worker", { ...quiet, waiting: (holder) => seen.push(holder) }, { pollMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ pid: process.pid, command: "sarge deploy web" });
    first.release();
    const lock = await second;
    expect(readHolder(paths.deployLock)?.command).toBe("sarge deploy worker");
    lock.release();
  });

  it("takes over the lock of a holder that is dead, and says so", async () => {
    const dead = spawnSync("true").pid!;
    writeFileSync(paths.deployLock, JSON.stringify({ pid: dead, startTime: "1", command: "sarge deploy web", user: "ann", since: "then", token: "dead" }));
    const taken: LockHolder[] = [];
    const lock = await acquireHomeLock(paths, "sarge deploy web", { ...quiet, takeover: (holder) => taken.push(holder) });
    expect(taken.map((holder) => holder.user)).toEqual(["ann"]);
    expect(readHolder(paths.deployLock)?.pid).toBe(process.pid);
    lock.release();
  });

  it("gives up after a timeout with the holder in the message", async () => {
    const first = await acquireHomeLock(paths, "sarge deploy web", quiet);
    await expect(acquireHomeLock(paths, "sarge rollback web", quiet, { timeoutMs: 50, pollMs: 10 })).rejects.toThrow(
      new RegExp(`^the home is locked by pid ${process.pid} \\(\\S+: sarge deploy web\\) since `),
    );
    first.release();
  });
});
