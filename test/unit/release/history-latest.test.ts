import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";
import { readHistory, readLatestHistory } from "../../../src/release/history.js";

describe("readLatestHistory", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-history-")));
    mkdirSync(dirname(paths.history), { recursive: true });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  // lines of ~600 bytes, so 20 of them span more than one 16 KiB chunk read from the end
  const line = (release: number) => JSON.stringify({ release, kind: "deploy", user: "dee", error: "x".repeat(release % 7 === 0 ? 900 : 500) }) + "\n";
  const write = (count: number, after = "") => writeFileSync(paths.history, Array.from({ length: count }, (_, i) => line(i + 1)).join("") + after);

  it("returns the last entries, oldest first, as readHistory's tail", () => {
    write(500);
    expect(readLatestHistory(paths, 20)).toEqual(readHistory(paths).slice(-20));
    expect(readLatestHistory(paths, 20).map((entry) => entry.release)).toEqual(Array.from({ length: 20 }, (_, i) => 481 + i));
  });

  it("returns the whole history when it is shorter, and none without a file", () => {
    expect(readLatestHistory(paths, 20)).toEqual([]);
    write(3);
    expect(readLatestHistory(paths, 20).map((entry) => entry.release)).toEqual([1, 2, 3]);
  });

  it("skips a torn last line, as readHistory does", () => {
    write(40, '{"release": 41, "kind": "dep');
    expect(readLatestHistory(paths, 20).map((entry) => entry.release)).toEqual(Array.from({ length: 20 }, (_, i) => 21 + i));
    expect(readLatestHistory(paths, 20)).toEqual(readHistory(paths).slice(-20));
  });
});
