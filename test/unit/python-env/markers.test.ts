import { describe, expect, it } from "vitest";
import { evaluateMarker } from "../../../src/python-env/markers.js";

const known = { extras: new Set(["socks"]), dependencyGroups: new Set(["dev"]) };

describe("environment markers, as far as sarge knows them", () => {
  it.each([
    ["extra == 'socks'", true],
    ['extra == "Socks"', true],
    ["'socks' == extra", true],
    ["extra == 'tests'", false],
    ["extra != 'tests'", true],
    ["'dev' in dependency_groups", true],
    ["'docs' in dependency_groups", false],
    ["'docs' not in dependency_groups", true],
    ["'socks' in extras", true],
    ["'socks' in extras and 'docs' in dependency_groups", false],
    ["'tests' in extras or ('dev' in dependency_groups)", true],
  ])("decides %s", (marker, outcome) => {
    expect(evaluateMarker(marker, known)).toBe(outcome);
  });

  it("leaves what depends on the machine to pip, as marker text", () => {
    expect(evaluateMarker("python_version < '3.9'", known)).toBe("python_version < '3.9'");
    expect(evaluateMarker("sys_platform == 'linux' and extra == 'socks'", known)).toBe("sys_platform == 'linux'");
    expect(evaluateMarker("(os_name == 'nt' or platform_machine == 'x86_64') and 'dev' in dependency_groups", known)).toBe(
      "(os_name == 'nt') or (platform_machine == 'x86_64')",
    );
    expect(evaluateMarker("python_version >= '3' and (extra == 'tests' or sys_platform == 'win32')", known)).toBe(
      "(python_version >= '3') and (sys_platform == 'win32')",
    );
  });

  it("refuses what is not a marker", () => {
    expect(() => evaluateMarker("python_version <", known)).toThrow(`cannot read the marker "python_version <"`);
    expect(() => evaluateMarker("(extra == 'a'", known)).toThrow(`cannot read the marker "(extra == 'a'"`);
    expect(() => evaluateMarker("extra = 'a'", known)).toThrow(/^cannot read the marker "extra = 'a'" at "= 'a'"$/);
  });
});
