import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendToFile } from "../../../src/util/append-file.js";

describe("appending to a file inside a home", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-append-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the file with the mode asked for, then appends", () => {
    const file = join(dir, "history.jsonl");
    appendToFile(file, "one\n", 0o600);
    appendToFile(file, "two\n", 0o600);
    expect(readFileSync(file, "utf8")).toBe("one\ntwo\n");
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600");
  });

  it("never writes through a symbolic link, even one made after any check", () => {
    const target = join(dir, "root-only");
    writeFileSync(target, "root's own\n");
    const link = join(dir, "sarge.log");
    symlinkSync(target, link);
    expect(() => appendToFile(link, "line\n", 0o600)).toThrow(
      `${link} is a symbolic link: sarge never writes through a link inside a home; remove it (sarge creates the file again)`,
    );
    expect(readFileSync(target, "utf8")).toBe("root's own\n");
  });
});
