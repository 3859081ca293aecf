import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeFileAtomic } from "../../../src/util/atomic-file.js";
import { SargeError } from "../../../src/util/errors.js";

/** Lets a test make write(2) short, as a nearly full disk does. */
const writeLimit = vi.hoisted(() => ({ bytes: Number.POSITIVE_INFINITY }));
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const writeSync = (fd: number, buffer: Buffer, offset: number, length: number) =>
    real.writeSync(fd, buffer, offset, Math.min(length, writeLimit.bytes));
  return { ...real, writeSync, default: { ...real, writeSync } };
});

const OLD = '{"old": true}\n';

describe("writeFileAtomic", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-atomic-"));
    file = join(dir, "state.json");
    writeFileSync(file, OLD);
  });
  afterEach(() => {
    writeLimit.bytes = Number.POSITIVE_INFINITY;
    rmSync(dir, { recursive: true, force: true });
  });

  it("replaces the file with the new content and the given mode, leaving no temp file", () => {
    writeFileAtomic(file, "new\n", 0o640);
    expect(readFileSync(file, "utf8")).toBe("new\n");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("goes on after short writes until every byte is written", () => {
    writeLimit.bytes = 7;
    const content = "é".repeat(5_000);
    writeFileAtomic(file, content);
    expect(readFileSync(file, "utf8")).toBe(content);
  });

  it("fails when the disk takes no more bytes, leaving the old file whole and no temp file", () => {
    writeLimit.bytes = 0;
    expect(() => writeFileAtomic(file, "x".repeat(10_000))).toThrow(SargeError);
    expect(() => writeFileAtomic(file, "x".repeat(10_000))).toThrow(`cannot write ${file}: the disk is full`);
    expect(readFileSync(file, "utf8")).toBe(OLD);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });
});

// mounting a tmpfs needs root (as the e2e machines run)
describe.skipIf(process.getuid?.() !== 0)("writeFileAtomic on a real, nearly full tmpfs", () => {
  let mountPoint: string;
  let mounted = false;
  beforeEach(() => {
    mountPoint = mkdtempSync(join(tmpdir(), "sarge-tinyfs-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mountPoint]);
    mounted = true;
  });
  afterEach(() => {
    if (mounted) execFileSync("umount", [mountPoint]);
    mounted = false;
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("refuses a file larger than the free space with a clear message; the old file stays whole", () => {
    const file = join(mountPoint, "supervisor-programs.json");
    const old = `${JSON.stringify({ version: 1, programs: [] })}\n`.padEnd(20_000, " ");
    writeFileAtomic(file, old);
    expect(() => writeFileAtomic(file, "y".repeat(100_000))).toThrow(`cannot write ${file}: the disk is full`);
    expect(readFileSync(file, "utf8")).toBe(old);
    expect(readdirSync(mountPoint)).toEqual(["supervisor-programs.json"]);
  });
});
