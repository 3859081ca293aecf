import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SargeError } from "../../../../src/util/errors.js";
import { loadRecords, saveRecords, type ProgramRecord } from "../../../../src/supervise/builtin/store.js";

const record: ProgramRecord = {
  spec: { name: "web-k3x9qa", command: "exec app", cwd: "/srv/app", env: { PORT: "5010" }, logFile: "/srv/web.log", stopTimeoutMs: 5000 },
  wanted: true,
  pid: 4242,
  startTime: "123456",
  startedAt: "2024-05-01T10:00:00.000Z",
  restarts: 2,
  lastExit: "exit 1",
};

describe("program store", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-store-"));
    file = join(dir, "supervisor-programs.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads back what it wrote, owner-only, without leaving its temp file", () => {
    expect(loadRecords(file)).toEqual([]);
    saveRecords(file, [record]);
    expect(loadRecords(file)).toEqual([record]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["supervisor-programs.json"]);
  });

  it("refuses a damaged file, naming it, rather than forgetting running programs", () => {
    writeFileSync(file, '{"version": 1, "programs": [');
    expect(() => loadRecords(file)).toThrow(SargeError);
    expect(() => loadRecords(file)).toThrow(file);
    writeFileSync(file, JSON.stringify({ version: 1, programs: [{ ...record, spec: { ...record.spec, cwd: "relative" } }] }));
    expect(() => loadRecords(file)).toThrow(file);
    expect(existsSync(file)).toBe(true);
  });
});
