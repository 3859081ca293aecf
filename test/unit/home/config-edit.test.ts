import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { editEnv, mergeAssignments, parseAssignmentLines, parseAssignments } from "../../../src/home/config-edit.js";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";

const original = `# my app
port_range: [5010, 5099]   # instances
port_map:
  web: 127.0.0.1:5000
env:
  # the greeting
  MESSAGE: "hello sarge!"
  DEBUG: "0"
keep_releases: 3
`;

describe("editing env in etc/sarge.yaml", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-edit-")));
    mkdirSync(paths.etc, { recursive: true });
    writeFileSync(paths.config, original, { mode: 0o644 });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("sets values keeping comments and order, and reports what changed", () => {
    const { changed, config } = editEnv(paths, { set: [["MESSAGE", "bonjour"], ["NEW", "a b#c"], ["DEBUG", "0"]] });
    expect(changed).toEqual(["MESSAGE", "NEW"]);
    expect(config.env).toEqual({ MESSAGE: "bonjour", DEBUG: "0", NEW: "a b#c" });
    const text = readFileSync(paths.config, "utf8");
    expect(text).toContain("# my app\n");
    expect(text).toContain("port_range: [5010, 5099] # instances\n");
    expect(text).toContain('  # the greeting\n  MESSAGE: "bonjour"\n  DEBUG: "0"\n  NEW: a b#c\nkeep_releases: 3\n');
    expect(statSync(paths.config).mode & 0o777).toBe(0o600);
  });

  it("unsets a key, and refuses one that is not set", () => {
    expect(editEnv(paths, { unset: ["DEBUG"] }).config.env).toEqual({ MESSAGE: "hello sarge!" });
    expect(() => editEnv(paths, { unset: ["NOPE"] })).toThrow(`NOPE is not set in ${paths.config}`);
  });

  it("creates env when the file has none", () => {
    writeFileSync(paths.config, "port_range: [5010, 5099]\n");
    expect(editEnv(paths, { set: [["A", "1"]] }).config.env).toEqual({ A: "1" });
  });

  it("leaves the file untouched when nothing changes", () => {
    expect(editEnv(paths, { set: [["DEBUG", "0"]] }).changed).toEqual([]);
    expect(readFileSync(paths.config, "utf8")).toBe(original);
  });

  it("refuses bad assignments with a message", () => {
    expect(() => mergeAssignments(parseAssignments([]), [])).toThrow("config set needs at least one KEY=VALUE");
    expect(mergeAssignments([["A", "1"], ["B", "2"]], [["A", "3"]])).toEqual([["A", "3"], ["B", "2"]]);
    expect(() => parseAssignments(["MESSAGE"])).toThrow('"MESSAGE" is not KEY=VALUE');
    expect(() => parseAssignments(["1X=2"])).toThrow('"1X" is not a variable name (letters, digits and _, not starting with a digit)');
    expect(parseAssignments(["A=b=c", "E="])).toEqual([["A", "b=c"], ["E", ""]]);
  });

  it("reads KEY=VALUE lines (of --stdin or --from-file), never showing a bad line", () => {
    expect(parseAssignmentLines("# secrets\n\nTOKEN=a b#c \"q\"\r\nEMPTY=\n  \nURL=x=y\n", "stdin")).toEqual([
      ["TOKEN", 'a b#c "q"'],
      ["EMPTY", ""],
      ["URL", "x=y"],
    ]);
    expect(() => parseAssignmentLines("A=1\nhunter2\n", "stdin")).toThrow(
      "stdin, line 2 is not KEY=VALUE with KEY of letters, digits and _, not starting with a digit (the line is not shown: it may hold a secret)",
    );
    expect(() => parseAssignmentLines("postgres://u:pw@db/x?a=b\n", "/tmp/env")).toThrow(/^\/tmp\/env, line 1 is not KEY=VALUE .*\(the line is not shown/);
  });
});
