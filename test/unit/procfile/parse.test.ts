import { describe, expect, it } from "vitest";
import { parseProcfile, processTypePattern, ProcfileError } from "../../../src/procfile/parse.js";
import { SargeError } from "../../../src/util/errors.js";

/** Shorthand: the parsed Procfile as [name, command] pairs. */
const pairs = (text: string): Array<[string, string]> => parseProcfile(text).map((e) => [e.name, e.command]);

describe("parseProcfile (docs/local.md)", () => {
  it("parses name: command lines in file order", () => {
    expect(parseProcfile("web: python app.py\nworker: celery worker\n")).toEqual([
      { name: "web", command: "python app.py" },
      { name: "worker", command: "celery worker" },
    ]);
  });

  it("ends lines at \\n, \\r\\n, lone \\r, \\f, \\v and the other splitlines boundaries", () => {
    for (const sep of ["\n", "\r\n", "\r", "\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]) {
      expect(pairs(`a: one${sep}b: two${sep}`), JSON.stringify(sep)).toEqual([
        ["a", "one"],
        ["b", "two"],
      ]);
    }
  });

  it("does not end lines at other control characters", () => {
    expect(pairs("a: one\x1fb: two\n")).toEqual([["a", "one\x1fb: two"]]);
    expect(pairs("a: one\u0085b: two")).toEqual([
      ["a", "one"],
      ["b", "two"],
    ]);
  });

  it("keeps the last line without a trailing newline", () => {
    expect(pairs("web: x")).toEqual([["web", "x"]]);
  });

  it("accepts names of [A-Za-z0-9_-]+, starting with a digit or '-', keeping case", () => {
    expect(pairs("1web: a\n-x: b\nWeb_2: c\nweb: d\n")).toEqual([
      ["1web", "a"],
      ["-x", "b"],
      ["Web_2", "c"],
      ["web", "d"],
    ]);
  });

  it("silently ignores lines that do not match: comments, blanks, indentation, bad names, empty commands", () => {
    const text = [
      "# a comment",
      "#web: commented",
      "",
      "   ",
      "  web: indented",
      "\tweb: tabbed",
      "bad name: x",
      "web.1: x",
      "wéb: x",
      "web :x",
      "web:",
      "just text",
      "ok: yes",
    ].join("\n");
    expect(pairs(text)).toEqual([["ok", "yes"]]);
  });

  it("allows zero or more whitespace characters after the colon, tab included", () => {
    expect(pairs("a:cmd\nb:   cmd\nc:\tcmd\nd: \t cmd\n")).toEqual([
      ["a", "cmd"],
      ["b", "cmd"],
      ["c", "cmd"],
      ["d", "cmd"],
    ]);
  });

  it("treats Unicode whitespace after the colon as Python's \\s does", () => {
    expect(pairs("a:\u00a0\u3000cmd\nb:\x1fcmd\nc:\ufeffcmd")).toEqual([
      ["a", "cmd"],
      ["b", "cmd"],
      ["c", "\ufeffcmd"],
    ]);
  });

  it("keeps the command verbatim: trailing spaces, '#', further colons", () => {
    expect(pairs("a: echo hi   \nb: echo 1 # not a comment\nc: a: b\nd:: x\ne: 'q' \"r\" $PORT\n")).toEqual([
      ["a", "echo hi   "],
      ["b", "echo 1 # not a comment"],
      ["c", "a: b"],
      ["d", ": x"],
      ["e", "'q' \"r\" $PORT"],
    ]);
  });

  it("quirk: a command of only blanks is its last blank, because the regex backtracks", () => {
    expect(pairs("web:   \n")).toEqual([["web", " "]]);
    expect(pairs("web: \t")).toEqual([["web", "\t"]]);
    expect(pairs("web: ")).toEqual([["web", " "]]);
  });

  it("rejects duplicate names with a ProcfileError", () => {
    expect(() => parseProcfile("web: a\nworker: b\nweb: c\n")).toThrow(ProcfileError);
    expect(() => parseProcfile("web: a\nweb: a\n")).toThrow("process names must be unique within a Procfile");
    const error = (() => {
      try {
        parseProcfile("web: a\nweb: b");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SargeError);
    expect((error as SargeError).exitCode).toBe(1);
  });

  it("names differing only in case are distinct", () => {
    expect(pairs("web: a\nWeb: b")).toEqual([
      ["web", "a"],
      ["Web", "b"],
    ]);
  });

  it("an empty Procfile, or one without matching lines, is valid and empty", () => {
    expect(parseProcfile("")).toEqual([]);
    expect(parseProcfile("\n\n# nothing\n  web: x\n")).toEqual([]);
  });

  it("exports the process type pattern", () => {
    expect(processTypePattern.test("web-1_A")).toBe(true);
    expect(processTypePattern.test("web.1")).toBe(false);
    expect(processTypePattern.test("")).toBe(false);
  });
});
