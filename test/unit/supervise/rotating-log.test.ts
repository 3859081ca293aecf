import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rotateIfFull } from "../../../src/supervise/rotating-log.js";
import { waitFor } from "../../support/wait.js";

/** Appends a numbered line every millisecond, as an app holding its log open with O_APPEND, until the stop file exists; prints how many. */
const WRITER = `
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
n = 0
while not os.path.exists(sys.argv[2]):
    os.write(fd, b"line %d\\n" % n)
    n += 1
    time.sleep(0.001)
print(n)
`;

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

  it("adds to the copy what the program wrote while the copy was made: a steady writer loses nothing to four rotations", async () => {
    const stop = join(dir, "stop");
    const writer = spawn("python3", ["-c", WRITER, log, stop], { stdio: ["ignore", "pipe", "inherit"] });
    let printed = "";
    writer.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    const exited = new Promise((resolve) => writer.once("exit", resolve));
    try {
      await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("line 0\n"), "the writer's first line");
      // 16 MB of filler before each rotation: copying it takes milliseconds, in which the writer writes several lines
      const filler = `${"x".repeat(1023)}\n`.repeat(16 * 1024);
      for (let round = 0; round < 4; round++) {
        appendFileSync(log, filler);
        expect(await rotateIfFull(log, { maxBytes: 1, keep: 4 })).toBe(true);
      }
    } finally {
      writeFileSync(stop, "");
      await exited;
    }
    const written = Number(printed.trim());
    const logged = new Set([log, `${log}.1`, `${log}.2`, `${log}.3`, `${log}.4`].flatMap((file) => [...readFileSync(file, "utf8").matchAll(/^line (\d+)$/gm)].map((match) => Number(match[1]))));
    const lost = Array.from({ length: written }, (_, n) => n).filter((n) => !logged.has(n));
    // only a line written in the microseconds between the last read of the log and its truncation can be lost
    expect(lost.length, `lines lost: ${lost.join(", ")}`).toBeLessThanOrEqual(1);
  });
});
