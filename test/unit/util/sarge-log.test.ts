import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";
import { openSargeLog } from "../../../src/util/sarge-log.js";

describe("var/log/sarge.log", () => {
  let root: string;
  let paths: HomePaths;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "sarge-log-"));
    paths = homePaths(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const lines = () => readFileSync(paths.sargeLog, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

  it("writes nothing until the first line, then one JSON line per call in pino's shape, mode 0600", () => {
    const log = openSargeLog(paths, "deploy");
    expect(() => statSync(paths.sargeLog)).toThrow(/ENOENT/);
    log.info("unpacked 4 entries");
    log.warn({ haproxy: "a warning" }, "HAProxy warns about its configuration");
    const text = readFileSync(paths.sargeLog, "utf8");
    expect(text).toMatch(/^\{"level":30,"time":"\d{4}-\d\d-\d\dT[\d:.]+Z","pid":\d+,"command":"deploy","msg":"unpacked 4 entries"\}\n/);
    expect(lines()[1]).toEqual({ level: 40, time: expect.any(String), pid: process.pid, command: "deploy", haproxy: "a warning", msg: "HAProxy warns about its configuration" });
    expect((statSync(paths.sargeLog).mode & 0o777).toString(8)).toBe("600");
  });

  it("logs an error in `err` as its type, message and stack, and a value JSON cannot hold as text", () => {
    const log = openSargeLog(paths, "deploy");
    log.error({ err: new RangeError("out of ports") }, "could not clean up after a failed release");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info({ cyclic }, "still logged");
    const [error, odd] = lines();
    expect(error).toMatchObject({ level: 50, err: { type: "RangeError", message: "out of ports", stack: expect.stringContaining("RangeError: out of ports") }, msg: "could not clean up after a failed release" });
    expect(odd).toMatchObject({ cyclic: "[object Object]", msg: "still logged" });
  });
});
