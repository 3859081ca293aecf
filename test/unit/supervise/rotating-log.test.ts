import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rotateIfFull } from "../../../src/supervise/rotating-log.js";

describe("rotateIfFull", () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-rotate-"));
    log = join(dir, "web.log");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves a log below the limit, or a missing one, alone", async () => {
    expect(await rotateIfFull(log, { maxBytes: 10, keep: 2 })).toBe(false);
    writeFileSync(log, "123456789");
    expect(await rotateIfFull(log, { maxBytes: 10, keep: 2 })).toBe(false);
    expect(readFileSync(log, "utf8")).toBe("123456789");
    expect(existsSync(`${log}.1`)).toBe(false);
  });

  it("copies a full log to .1, shifts older ones up, drops the one beyond keep, and empties the log in place", async () => {
    const limits = { maxBytes: 10, keep: 2 };
    for (const content of ["first-full", "second-full", "third-full"]) {
      writeFileSync(log, content, { flag: "a" });
      expect(await rotateIfFull(log, limits)).toBe(true);
    }
    expect(readFileSync(log, "utf8")).toBe("");
    expect(readFileSync(`${log}.1`, "utf8")).toBe("third-full");
    expect(readFileSync(`${log}.2`, "utf8")).toBe("second-full");
    expect(existsSync(`${log}.3`)).toBe(false);
  });

  it("only truncates when keep is 0", async () => {
    writeFileSync(log, "0123456789abc");
    expect(await rotateIfFull(log, { maxBytes: 10, keep: 0 })).toBe(true);
    expect(readFileSync(log, "utf8")).toBe("");
    expect(existsSync(`${log}.1`)).toBe(false);
  });
});
