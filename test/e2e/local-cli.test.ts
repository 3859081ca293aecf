/** docs/local.md (command line) for `sarge local`, end to end. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { logLinePattern, project, sarge } from "./local-support.js";

const version = `sarge ${(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version}\n`;

describe("sarge local: command line (docs/local.md)", () => {
  const cwd = project({ A: "from_a: x\n", B: "from_b: x\n", Procfile: "default: x\n", "a.env": "PROCFILE=A\n" });
  const checks = (args: string[]) => sarge(["local", ...args], { cwd });

  it("common options are accepted before or after the command; after wins; repeated, the last wins", async () => {
    const results = await Promise.all([
      checks(["-f", "A", "check"]),
      checks(["check", "-f", "A"]),
      checks(["-f", "A", "check", "-f", "B"]),
      checks(["-f", "B", "-f", "A", "check"]),
      checks(["check", "-f", "B", "--procfile", "A"]),
      checks(["-e", "a.env", "check"]),
      checks(["check", "--env=a.env"]),
    ]);
    const detected = results.map((r) => r.stderr.match(/\((.*)\)/)?.[1]);
    expect(detected).toEqual(["from_a", "from_a", "from_b", "from_a", "from_a", "from_a", "from_a"]);
  });

  it("--no-prefix and --no-colour before the command", async () => {
    const dir = project({ Procfile: "web: echo hi\n" });
    const result = await sarge(["local", "--no-colour", "--no-prefix", "start"], { cwd: dir });
    expect(result.stdout).toMatch(/^web\.1 started \(pid=\d+\)\nhi\nweb\.1 stopped \(rc=0\)\n$/);
  });

  it("-v/--version anywhere prints the version; so does the version command", async () => {
    const results = await Promise.all([
      checks(["-v"]),
      checks(["--version"]),
      checks(["check", "-v"]),
      checks(["start", "--version"]),
      checks(["version"]),
    ]);
    for (const result of results) expect(result).toMatchObject({ code: 0, stdout: version, stderr: "" });
  });

  it("a missing or unknown command is a usage error: exit 2, message on stderr", async () => {
    const [missing, unknown] = await Promise.all([checks([]), checks(["frobnicate"])]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing command");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(missing.stdout + unknown.stdout).toBe("");
  });

  it("an unknown option is a usage error (exit 2)", async () => {
    const result = await checks(["start", "--frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });

  it("help, help <task> and --help describe the commands", async () => {
    const [help, helpStart, dashHelp] = await Promise.all([checks(["help"]), checks(["help", "start"]), checks(["start", "--help"])]);
    expect(help.code).toBe(0);
    for (const command of ["start", "run", "check", "export"]) expect(help.stdout).toContain(command);
    expect(helpStart.stdout).toContain("--concurrency");
    expect(dashHelp.stdout).toBe(helpStart.stdout);
    const top = await sarge(["local", "--help"], { cwd });
    expect(top.stdout).toBe(help.stdout);
  });

  it("errors use honcho's log format on stderr with exit 1", async () => {
    const result = await sarge(["local", "start", "nope"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(logLinePattern("ERROR", "Process type 'nope' does not exist in Procfile"));
  });
});
