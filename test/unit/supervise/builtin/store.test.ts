import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
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
  bootId: "4995b738-f88f-4df0-88a9-74b7f5719e6b",
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
    expect(statSync(`${file}.bak`).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(["supervisor-programs.json", "supervisor-programs.json.bak"]);
  });

  it("reads a list written before boot ids were recorded, with no boot id", () => {
    const older: Partial<ProgramRecord> = { ...record };
    delete older.bootId;
    writeFileSync(file, JSON.stringify({ version: 1, programs: [older] }));
    expect(loadRecords(file)).toEqual([{ ...record, bootId: null }]);
  });

  it("refuses a damaged file, naming it, rather than forgetting running programs", () => {
    writeFileSync(file, '{"version": 1, "programs": [');
    expect(() => loadRecords(file)).toThrow(SargeError);
    expect(() => loadRecords(file)).toThrow(file);
    writeFileSync(file, JSON.stringify({ version: 1, programs: [{ ...record, spec: { ...record.spec, cwd: "relative" } }] }));
    expect(() => loadRecords(file)).toThrow(file);
    expect(existsSync(file)).toBe(true);
  });

  it("falls back to its copy when the list is cut short or gone, and says so", () => {
    saveRecords(file, [record]);
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.slice(0, 100));
    const warnings: string[] = [];
    expect(loadRecords(file, (line) => warnings.push(line))).toEqual([record]);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${file} is damaged \\(.*\\); using its copy ${file}\\.bak$`))]);
    unlinkSync(file);
    expect(loadRecords(file, (line) => warnings.push(line))).toEqual([record]);
    expect(warnings[1]).toBe(`${file} is missing; using its copy ${file}.bak`);
  });

  it("refuses a damaged list whose copy is damaged too, naming both", () => {
    saveRecords(file, [record]);
    writeFileSync(file, "{");
    writeFileSync(`${file}.bak`, "");
    expect(() => loadRecords(file)).toThrow(`cannot read the supervisor's program list ${file}`);
    expect(() => loadRecords(file)).toThrow(expect.objectContaining({ detail: expect.stringContaining(`its copy ${file}.bak is damaged`) }));
  });
});
