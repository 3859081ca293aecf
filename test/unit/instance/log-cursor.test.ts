import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LogCursor } from "../../../src/instance/log-cursor.js";
import { rotateIfFull } from "../../../src/supervise/rotating-log.js";

const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, index) => `line ${from + index}\n`).join("");

describe("LogCursor", () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-cursor-"));
    log = join(dir, "web.log");
    writeFileSync(log, "before the cursor\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cursorAtEnd = (): LogCursor => new LogCursor(log, statSync(log).size);

  it("reads what was appended since the last read, once", () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 3));
    expect(cursor.read()).toBe(lines(0, 3));
    expect(cursor.read()).toBe("");
  });

  it("reads across two copy-and-truncate rotations between two reads, from the kept copies", async () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 2));
    expect(cursor.read()).toBe(lines(0, 2));
    appendFileSync(log, lines(2, 10));
    expect(await rotateIfFull(log, { maxBytes: 50, keep: 3 })).toBe(true);
    appendFileSync(log, lines(10, 20));
    expect(await rotateIfFull(log, { maxBytes: 50, keep: 3 })).toBe(true);
    appendFileSync(log, lines(20, 22));
    expect(cursor.read()).toBe(lines(2, 22));
    appendFileSync(log, lines(22, 23));
    expect(cursor.read()).toBe(lines(22, 23));
  });

  it("reads on in the one kept copy, which every rotation overwrites in place", async () => {
    const cursor = cursorAtEnd();
    for (let round = 0; round < 3; round++) {
      appendFileSync(log, lines(round * 10, round * 10 + 5));
      expect(cursor.read()).toBe(lines(round * 10, round * 10 + 5));
      appendFileSync(log, lines(round * 10 + 5, round * 10 + 10));
      expect(await rotateIfFull(log, { maxBytes: 50, keep: 1 })).toBe(true);
      expect(cursor.read()).toBe(lines(round * 10 + 5, round * 10 + 10));
    }
  });

  it("says so when more rotations than kept copies fell between two reads, then reads what is left", async () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 10));
    await rotateIfFull(log, { maxBytes: 50, keep: 1 });
    appendFileSync(log, lines(10, 20));
    await rotateIfFull(log, { maxBytes: 50, keep: 1 });
    appendFileSync(log, lines(20, 21));
    expect(cursor.read()).toBe(`--- lines rotated away before they were read ---\n${lines(10, 21)}`);
  });

  it("reads across a rotation by rename (the log replaced by a new file)", () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 2));
    expect(cursor.read()).toBe(lines(0, 2));
    appendFileSync(log, lines(2, 4));
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines(4, 5));
    expect(cursor.read()).toBe(lines(2, 5));
  });

  it("reads an emptied log from its start when no copy was kept", async () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 10));
    expect(await rotateIfFull(log, { maxBytes: 50, keep: 0 })).toBe(true);
    appendFileSync(log, lines(10, 11));
    expect(cursor.read()).toBe(lines(10, 11));
  });

  it("waits while a rotation is half done (copied, not yet emptied), and reads nothing twice", () => {
    const cursor = cursorAtEnd();
    appendFileSync(log, lines(0, 2));
    expect(cursor.read()).toBe(lines(0, 2));
    appendFileSync(log, lines(2, 4));
    copyFileSync(log, `${log}.1`);
    expect(cursor.read()).toBe("");
    writeFileSync(log, "");
    appendFileSync(log, lines(4, 5));
    expect(cursor.read()).toBe(lines(2, 5));
  });
});
