import { describe, expect, it } from "vitest";
import { commandNameOf } from "../../../src/cli/command-name.js";
import { buildProgram } from "../../../src/cli/main.js";

const argv = (...args: string[]) => ["node", "sarge", ...args];

describe("commandNameOf", () => {
  it("is the first operand, past --home and its value", () => {
    expect(commandNameOf(argv("list"))).toBe("list");
    expect(commandNameOf(argv("--home", "/srv/app", "status", "--json"))).toBe("status");
    expect(commandNameOf(argv("--home=/srv/app", "push", "status"))).toBe("push");
  });

  it("is undefined when an option other than --home comes first, or no command is named", () => {
    expect(commandNameOf(argv("--help", "list"))).toBeUndefined();
    expect(commandNameOf(argv("--home", "/srv/app"))).toBeUndefined();
    expect(commandNameOf(argv())).toBeUndefined();
  });
});

describe("buildProgram", () => {
  const names = (program: { commands: ReadonlyArray<{ name(): string }> }) => program.commands.map((command) => command.name());

  it("registers only the named command's module: lifecycle's four commands for stop", async () => {
    expect(names(await buildProgram("list"))).toEqual(["list"]);
    expect(names(await buildProgram("stop"))).toEqual(["start", "stop", "restart", "destroy"]);
  });

  it("registers every command when none or an unknown one is named", async () => {
    const all = names(await buildProgram());
    expect(all).toContain("deploy");
    expect(all).toContain("version");
    expect(names(await buildProgram("lsit"))).toEqual(all);
  });
});
