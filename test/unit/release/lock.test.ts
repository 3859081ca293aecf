import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireHomeLock, readHolder, type LockHolder } from "../../../src/release/lock.js";
import { holdHomeLock } from "../../../src/release/hold.js";
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

  describe("held for others by sarge hold", () => {
    afterEach(() => {
      delete process.env.SARGE_LOCK_TOKEN;
      delete process.env.SARGE_PUSH_ID;
    });

    /** Hold the lock as `sarge hold` does until the returned function is called; resolves with the token it printed. */
    async function hold(): Promise<{ token: string; end: () => Promise<void> }> {
      let end!: () => void;
      const until = new Promise<void>((resolve) => (end = resolve));
      let printed!: (token: string) => void;
      const token = new Promise<string>((resolve) => (printed = resolve));
      const holding = holdHomeLock(paths, { held: printed, until, say: () => undefined });
      return { token: await token, end: () => (end(), holding) };
    }

    it("holds the lock until its session ends, as `sarge hold (push <id>)`", async () => {
      process.env.SARGE_PUSH_ID = "push-7";
      const { token, end } = await hold();
      expect(readHolder(paths.deployLock)).toMatchObject({ pid: process.pid, command: "sarge hold (push push-7)", token });
      await end();
      expect(existsSync(paths.deployLock)).toBe(false);
    });

    it("lets a command with its token use the lock without waiting, and leaves it held", async () => {
      const { token, end } = await hold();
      process.env.SARGE_LOCK_TOKEN = token;
      const mine = await acquireHomeLock(paths, "sarge deploy --stage web", quiet, { timeoutMs: 0 });
      expect(mine.holder.token).toBe(token);
      mine.release();
      expect(readHolder(paths.deployLock)?.token).toBe(token);
      await end();
    });

    it("refuses a token that does not hold the lock, saying who does", async () => {
      process.env.SARGE_LOCK_TOKEN = "0123456789abcdef";
      await expect(acquireHomeLock(paths, "sarge activate 2", quiet)).rejects.toThrow("SARGE_LOCK_TOKEN does not hold the deploy lock: nobody holds it");
      const { end } = await hold();
      await expect(acquireHomeLock(paths, "sarge activate 2", quiet)).rejects.toThrow(
        new RegExp(`^SARGE_LOCK_TOKEN does not hold the deploy lock: it is held by pid ${process.pid} \\(\\S+: sarge hold, since `),
      );
      await end();
      const dead = spawnSync("true").pid!;
      writeFileSync(paths.deployLock, JSON.stringify({ pid: dead, startTime: "1", command: "sarge hold", user: "ann", since: "then", token: "0123456789abcdef" }));
      await expect(acquireHomeLock(paths, "sarge activate 2", quiet)).rejects.toThrow("SARGE_LOCK_TOKEN does not hold the deploy lock: its holder is gone");
    });

    it("gives up waiting for another holder after --wait-lock, naming it", async () => {
      const first = await acquireHomeLock(paths, "sarge deploy web", quiet);
      const waiting: string[] = [];
      await expect(holdHomeLock(paths, { waitMs: 50, held: () => undefined, until: Promise.resolve(), say: (line) => waiting.push(line) })).rejects.toThrow(
        new RegExp(`^the home is locked by pid ${process.pid} \\(\\S+: sarge deploy web\\) since `),
      );
      expect(waiting).toEqual([expect.stringMatching(/^waiting for the deploy lock held by pid \d+ \(\S+: sarge deploy web, since /)]);
      first.release();
    });
  });
});
