import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { readLines } from "../../../../src/supervise/builtin/line-reader.js";

function reader(maxBytes: number) {
  const stream = new PassThrough();
  const lines: string[] = [];
  let overflows = 0;
  readLines(stream, maxBytes, { line: (line) => lines.push(line), overflow: () => overflows++ });
  return { stream, lines, overflows: () => overflows };
}

describe("readLines", () => {
  it("joins lines split across chunks, splits chunks holding several, and decodes UTF-8 cut mid-character", () => {
    const { stream, lines } = reader(100);
    const text = Buffer.from("first\nsecönd\nthird");
    stream.write(text.subarray(0, 10));
    stream.write(text.subarray(10));
    stream.write("\n\n");
    expect(lines).toEqual(["first", "secönd", "third", ""]);
  });

  it("stops at a line longer than the limit, whether or not its end has arrived, and drops what follows", () => {
    const unended = reader(8);
    unended.stream.write("12345");
    unended.stream.write("6789");
    expect(unended.overflows()).toBe(1);
    unended.stream.write("\nnext\n");
    expect(unended.lines).toEqual([]);
    expect(unended.overflows()).toBe(1);

    const ended = reader(8);
    ended.stream.write("12345678\n123456789\nnext\n");
    expect(ended.lines).toEqual(["12345678"]);
    expect(ended.overflows()).toBe(1);
  });
});
