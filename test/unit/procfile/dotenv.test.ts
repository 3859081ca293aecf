import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DotenvError, parseDotenv, readDotenvFiles, shlexTokens } from "../../../src/procfile/dotenv.js";
import { SargeError } from "../../../src/util/errors.js";

/** The value FOO gets from one .env line, or undefined when the line sets nothing. */
const foo = (line: string): string | undefined => parseDotenv(line).get("FOO");
const entries = (text: string): Array<[string, string]> => [...parseDotenv(text)];

describe("shlexTokens (Python shlex.shlex(line, posix=True))", () => {
  it("splits words, one-character punctuation and quoted strings", () => {
    expect(shlexTokens("FOO=bar")).toEqual(["FOO", "=", "bar"]);
    expect(shlexTokens("a.b-c")).toEqual(["a", ".", "b", "-", "c"]);
    expect(shlexTokens(`x="a b"'c'`)).toEqual(["x", "=", "a bc"]);
    expect(shlexTokens("$(echo hi)")).toEqual(["$", "(", "echo", "hi", ")"]);
    expect(shlexTokens(`""`)).toEqual([""]);
    expect(shlexTokens("a # b")).toEqual(["a"]);
    expect(shlexTokens("")).toEqual([]);
  });
});

describe("parseDotenv: every row of the `.env` grammar (docs/local.md)", () => {
  it("FOO=bar", () => expect(foo("FOO=bar")).toBe("bar"));

  it("whitespace around = and indentation are fine", () => {
    expect(foo("FOO = bar")).toBe("bar");
    expect(foo("FOO= bar")).toBe("bar");
    expect(foo("  FOO=bar")).toBe("bar");
    expect(foo("\tFOO\t=\tbar\t")).toBe("bar");
  });

  it("unquoted whitespace is dropped", () => expect(foo("FOO=hello big world")).toBe("hellobigworld"));

  it("FOO=1 BAR=2 is one variable", () => {
    expect(entries("FOO=1 BAR=2")).toEqual([["FOO", "1BAR=2"]]);
  });

  it("leading blanks: unquoted dropped, quoted kept", () => {
    expect(foo("FOO=  lead")).toBe("lead");
    expect(foo('FOO="  lead"')).toBe("  lead");
  });

  it("double and single quotes", () => {
    expect(foo('FOO="a b"')).toBe("a b");
    expect(foo("FOO='a b'")).toBe("a b");
  });

  it("the other quote inside quotes", () => {
    expect(foo(`FOO="it's"`)).toBe("it's");
    expect(foo(`FOO='say "hi"'`)).toBe('say "hi"');
    expect(foo(`FOO='"x"'`)).toBe('"x"');
  });

  it("escaped double quotes", () => {
    expect(foo('FOO="a\\"b"')).toBe('a"b');
    expect(foo('FOO=\\"x\\"')).toBe('"x"');
  });

  it("FOO='a\\'b' is an error: no escapes inside single quotes", () => {
    expect(() => parseDotenv("FOO='a\\'b'")).toThrow(DotenvError);
  });

  it("adjacent pieces are concatenated", () => {
    expect(foo(`FOO="x"y'z'`)).toBe("xyz");
    expect(foo(`FOO=a"b c"d`)).toBe("ab cd");
  });

  it("backslash-space outside quotes", () => expect(foo("FOO=a\\ b")).toBe("a b"));

  it("\\n in quotes becomes a newline, in all three spellings", () => {
    expect(foo('FOO="a\\nb"')).toBe("a\nb");
    expect(foo("FOO='a\\nb'")).toBe("a\nb");
    expect(foo('FOO="a\\\\nb"')).toBe("a\nb");
  });

  it("unquoted \\n gives n", () => expect(foo("FOO=a\\nb")).toBe("anb"));

  it("\\t in quotes becomes a tab; unquoted gives t", () => {
    expect(foo('FOO="a\\tb"')).toBe("a\tb");
    expect(foo("FOO=a\\tb")).toBe("atb");
  });

  it("\\r is not translated", () => expect(foo('FOO="a\\rb"')).toBe("a\\rb"));

  it("double backslash: \"a\\\\b\" / 'a\\\\b' / a\\\\b", () => {
    expect(foo('FOO="a\\\\b"')).toBe("a\\b");
    expect(foo("FOO='a\\\\b'")).toBe("a\\\\b");
    expect(foo("FOO=a\\\\b")).toBe("a\\b");
  });

  it("backslash-dollar: kept in quotes, removed unquoted", () => {
    expect(foo('FOO="\\$x"')).toBe("\\$x");
    expect(foo("FOO='\\$x'")).toBe("\\$x");
    expect(foo("FOO=\\$x")).toBe("$x");
  });

  it("no interpolation", () => {
    expect(foo("FOO=$HOME")).toBe("$HOME");
    expect(foo("FOO=${HOME}")).toBe("${HOME}");
    expect(foo('FOO="$HOME"')).toBe("$HOME");
    expect(foo("FOO=$(cmd)")).toBe("$(cmd)");
    expect(foo("FOO=$(echo hi)")).toBe("$(echohi)");
  });

  it("# starts a comment wherever a token could begin or continue outside quotes", () => {
    expect(foo("FOO=bar # c")).toBe("bar");
    expect(foo("FOO=bar#baz")).toBe("bar");
    expect(foo("FOO='x'#y")).toBe("x");
  });

  it("# inside quotes is kept", () => expect(foo('FOO="#x"')).toBe("#x"));

  it("comment lines are ignored", () => {
    expect(entries("# FOO=bar\n   # BAR=baz\n")).toEqual([]);
  });

  it("fewer than 3 tokens: not set", () => {
    for (const line of ["FOO=", "FOO= # c", "FOO", "FOO =", ""]) {
      expect(parseDotenv(line).has("FOO"), line).toBe(false);
    }
  });

  it("empty quotes set the empty string", () => {
    expect(parseDotenv('FOO=""').get("FOO")).toBe("");
    expect(parseDotenv("FOO=''").get("FOO")).toBe("");
  });

  it("deliberate difference: export FOO=bar is honoured", () => {
    expect(foo("export FOO=bar")).toBe("bar");
    expect(foo("  export\tFOO = 'a b'")).toBe("a b");
    // a variable literally named export still works
    expect(parseDotenv("export=1").get("export")).toBe("1");
    // "exportFOO" is one word, not the keyword
    expect(entries("exportFOO=1")).toEqual([["exportFOO", "1"]]);
    // export without an assignment sets nothing
    expect(entries("export FOO")).toEqual([]);
  });

  it("lower case and leading underscore are allowed", () => {
    expect(entries("foo=x\n_X=1")).toEqual([
      ["foo", "x"],
      ["_X", "1"],
    ]);
  });

  it("keys that do not start the right way, or are split by punctuation, are ignored", () => {
    expect(entries("1X=1\nA.B=1\nA-B=1\n:A=1\nКЛЮЧ=1\n鍵=1")).toEqual([]);
  });

  it('a quoted key sets the variable: "FOO"=x', () => expect(foo('"FOO"=x')).toBe("x"));

  it("the key regex is only a prefix match; Latin-1 letters are word characters", () => {
    expect(entries('Aé=1\n"A B"=1\nÀB=1')).toEqual([
      ["Aé", "1"],
      ["A B", "1"],
    ]);
  });

  it("= inside the value", () => {
    expect(foo("FOO=a=b==c")).toBe("a=b==c");
    expect(foo("FOO==x")).toBe("=x");
  });

  it("CRLF files: the \\r is not part of the value", () => {
    expect(entries("FOO=bar\r\nBAR=baz\r\n")).toEqual([
      ["FOO", "bar"],
      ["BAR", "baz"],
    ]);
  });

  it("Unicode, URLs and shell punctuation are kept as is", () => {
    expect(foo("FOO=ünïcødé✓")).toBe("ünïcødé✓");
    expect(foo("FOO=😀x")).toBe("😀x");
    expect(foo("FOO=postgres://u:p@host:5432/db?x=1&y=2")).toBe("postgres://u:p@host:5432/db?x=1&y=2");
    expect(foo("FOO=a;b&c|d@e~f")).toBe("a;b&c|d@e~f");
  });

  it("duplicate key: the last one wins (the first position is kept)", () => {
    expect(entries("FOO=1\nBAR=2\nFOO=3")).toEqual([
      ["FOO", "3"],
      ["BAR", "2"],
    ]);
  });

  it("an unclosed quote spanning lines is a one-line error with the line number", () => {
    expect(() => parseDotenv('A=1\nFOO="multi\nline"')).toThrow(
      'malformed env file .env, line 2: no closing quotation',
    );
    expect(() => parseDotenv("FOO='x", "conf/.env")).toThrow("malformed env file conf/.env, line 1: no closing quotation");
  });

  it("a trailing backslash is a one-line error with the line number", () => {
    expect(() => parseDotenv("A=1\n\nFOO=trailing\\")).toThrow(
      "malformed env file .env, line 3: no escaped character after the trailing backslash",
    );
    expect(() => parseDotenv('FOO="a\\')).toThrow("no escaped character");
  });

  it("errors are SargeErrors with exit code 1 and a one-line message", () => {
    try {
      parseDotenv('FOO="x');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SargeError);
      expect((error as SargeError).exitCode).toBe(1);
      expect((error as Error).message).not.toContain("\n");
    }
  });

  it("lines are split with Python splitlines (lone \\r, \\f, \\v end lines too)", () => {
    expect(entries("A=1\rB=2\fC=3\vD=4\u2028E=5")).toEqual([
      ["A", "1"],
      ["B", "2"],
      ["C", "3"],
      ["D", "4"],
      ["E", "5"],
    ]);
  });
});

describe("readDotenvFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "sarge-dotenv-"));
  writeFileSync(join(dir, "a.env"), "FOO=a\nONLY_A=1\n");
  writeFileSync(join(dir, "b.env"), "FOO=b\nONLY_B=2");
  mkdirSync(join(dir, "dir.env"));

  it("later files override earlier ones; missing files and directories are skipped", () => {
    const values = readDotenvFiles([
      join(dir, "a.env"),
      join(dir, "missing.env"),
      join(dir, "dir.env"),
      join(dir, "b.env"),
    ]);
    expect([...values]).toEqual([
      ["FOO", "b"],
      ["ONLY_A", "1"],
      ["ONLY_B", "2"],
    ]);
  });

  it("no files: empty", () => expect(readDotenvFiles([]).size).toBe(0));

  it("a malformed file names its path and line", () => {
    writeFileSync(join(dir, "bad.env"), "OK=1\nBAD='x\n");
    expect(() => readDotenvFiles([join(dir, "a.env"), join(dir, "bad.env")])).toThrow(
      `malformed env file ${join(dir, "bad.env")}, line 2: no closing quotation`,
    );
  });
});
