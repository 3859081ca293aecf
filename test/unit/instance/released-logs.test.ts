import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, instanceLogPath, type HomePaths } from "../../../src/home/paths.js";
import { keepReleasedLog, releasedLogPath, RELEASED_LOGS_KEPT } from "../../../src/instance/released-logs.js";

describe("logs of removed instances", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-released-")));
    mkdirSync(paths.log, { recursive: true });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("keeps the current log and drops the rotated copies", () => {
    writeFileSync(instanceLogPath(paths, "web-aaaaaa"), "last words\n");
    writeFileSync(`${instanceLogPath(paths, "web-aaaaaa")}.1`, "older\n");
    keepReleasedLog(paths, "web-aaaaaa", 2);
    expect(existsSync(releasedLogPath(paths, "web-aaaaaa"))).toBe(true);
    expect(readdirSync(paths.log).sort()).toEqual(["released"]);
  });

  it("keeps only the newest RELEASED_LOGS_KEPT", () => {
    const ids = Array.from({ length: RELEASED_LOGS_KEPT + 2 }, (_, n) => `web-${String(n).padStart(6, "0")}`);
    ids.forEach((id, n) => {
      writeFileSync(instanceLogPath(paths, id), "x\n");
      keepReleasedLog(paths, id, 0);
      utimesSync(releasedLogPath(paths, id), n, n);
    });
    keepReleasedLog(paths, "web-absent", 0);
    const kept = readdirSync(join(paths.log, "released"));
    expect(kept).toHaveLength(RELEASED_LOGS_KEPT);
    expect(kept).not.toContain(`${ids[0]}.log`);
    expect(kept).not.toContain(`${ids[1]}.log`);
    expect(kept).toContain(`${ids.at(-1)}.log`);
  });
});
