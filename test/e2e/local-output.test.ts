/** docs/local.md (start: processes, output format, colour, quiet), end to end. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sargeBin } from "../support/cli.js";
import { baseEnv, linesOf, localStart, normalize, project, startAndCollect } from "./local-support.js";

describe("sarge local start: line format (docs/local.md)", () => {
  it("`HH:MM:SS <name padded to 6> | <line>`: started line, output, stopped line", async () => {
    const cwd = project({ Procfile: "web: echo hello\n" });
    const result = await localStart(cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(normalize(result.stdout)).toBe(
      [
        "HH:MM:SS system | web.1 started (pid=N)",
        "HH:MM:SS web.1  | hello",
        "HH:MM:SS system | web.1 stopped (rc=0)",
        "",
      ].join("\n"),
    );
  });

  it("the width is the longest name being started (system and all names padded to it)", async () => {
    const cwd = project({ Procfile: "web: exec sleep 10\nlongworker: echo hi; exec sleep 10\n" });
    const { result } = await startAndCollect(cwd, ["-c", "longworker=10"], 10);
    const lines = normalize(result.stdout).split("\n");
    expect(lines).toContain("HH:MM:SS system        | web.1 started (pid=N)");
    expect(lines).toContain("HH:MM:SS longworker.1  | hi");
    expect(lines).toContain("HH:MM:SS longworker.10 | hi");
  });

  it("the time is local time", async () => {
    const cwd = project({ Procfile: "web: echo hello\n" });
    const before = new Date();
    const result = await localStart(cwd, [], { env: { TZ: "Etc/GMT-5" } });
    const hour = Number(result.stdout.slice(0, 2));
    const expected = [before, new Date()].map((d) => (d.getUTCHours() + 5) % 24);
    expect(expected).toContain(hour);
    expect(result.stdout).toMatch(/^\d\d:\d\d:\d\d system \| /);
  });

  it("lines are split like Python splitlines; an empty line is the prefix alone; a last line without newline is printed", async () => {
    const cwd = project({ Procfile: "web: printf 'a\\rb\\n\\nc\\fd\\r\\nno newline'\n" });
    const result = await localStart(cwd);
    expect(linesOf(result.stdout, "web.1").filter((l) => !l.includes("system"))).toEqual([
      "HH:MM:SS web.1  | a",
      "HH:MM:SS web.1  | b",
      "HH:MM:SS web.1  | ",
      "HH:MM:SS web.1  | c",
      "HH:MM:SS web.1  | d",
      "HH:MM:SS web.1  | no newline",
    ]);
  });

  it("output is decoded as UTF-8, invalid bytes become U+FFFD", async () => {
    const cwd = project({ Procfile: "web: printf 'caf\\303\\251 \\377 ok\\n'\n" });
    const result = await localStart(cwd, ["--no-prefix"]);
    expect(result.stdout.split("\n")).toContain("café \uFFFD ok");
  });

  it("stderr is merged into the same pipe, in order", async () => {
    const cwd = project({ Procfile: "web: echo one; echo two >&2; echo three; echo four >&2\n" });
    const result = await localStart(cwd, ["--no-prefix"]);
    expect(result.stdout).toMatch(/\none\ntwo\nthree\nfour\n/);
    expect(result.stderr).toBe("");
  });

  it("a partial line is printed when its newline arrives, as one line", async () => {
    const cwd = project({ Procfile: "web: printf 'par'; sleep 0.2; printf 'tial\\n'\n" });
    const result = await localStart(cwd, ["--no-prefix"]);
    expect(result.stdout.split("\n")).toContain("partial");
  });

  it("--no-prefix: lines bare, system messages bare too", async () => {
    const cwd = project({ Procfile: "web: echo hello\n" });
    const result = await localStart(cwd, ["--no-prefix"]);
    expect(result.stdout.replace(/pid=\d+/, "pid=N")).toBe("web.1 started (pid=N)\nhello\nweb.1 stopped (rc=0)\n");
  });

  it("-q: output lines of those types (all instances) are dropped; their system lines remain", async () => {
    const cwd = project({ Procfile: "web: echo web-out; exec sleep 10\nworker: echo worker-out; exec sleep 10\nlast: sleep 0.5\n" });
    const result = await localStart(cwd, ["-q", "worker,last", "-c", "worker=2"]);
    const out = normalize(result.stdout);
    expect(out).toContain("| web-out\n");
    expect(out).not.toContain("worker-out");
    expect(out).toContain("system   | worker.2 started (pid=N)\n");
    expect(out).toContain("system   | worker.2 stopped (rc=-15)\n");
  });

  it("processes run in sarge's cwd (not the app root), in a new session, with stdin inherited", async () => {
    const cwd = project({
      "app/Procfile": 'web: read line; echo "pwd=$(pwd) got=$line"; echo "ids $$ $(ps -o sid= -p $$) $(ps -o pgid= -p $$)"\n',
    });
    const result = await localStart(cwd, ["-d", "app"], { input: "typed\n" });
    const real = execFileSync("realpath", [cwd]).toString().trim();
    expect(result.stdout).toContain(`| pwd=${real} got=typed\n`);
    const pid = result.stdout.match(/web\.1 started \(pid=(\d+)\)/)![1];
    const ids = result.stdout.match(/\| ids (\d+) +(\d+) +(\d+)\n/)!;
    expect([ids[1], ids[2], ids[3]]).toEqual([pid, pid, pid]);
  });
});

/** Run `sarge local start args` under a pseudo-terminal (util-linux script) and return what it printed. */
function onTty(cwd: string, args: string): string {
  const out = execFileSync("script", ["-qec", `${process.execPath} ${sargeBin} local start ${args}`, "/dev/null"], {
    cwd,
    env: baseEnv(),
    input: "",
  });
  return out.toString().replace(/\r\n/g, "\n");
}

describe("sarge local start: colour (docs/local.md)", () => {
  it("not coloured when stdout is not a TTY", async () => {
    const result = await localStart(project({ Procfile: "web: echo hi\n" }));
    expect(result.stdout).not.toContain("\x1b");
  });

  it("on a TTY: ESC[0m ESC[<c>m <prefix> ESC[0m <line>; system lines never coloured", () => {
    const out = normalize(onTty(project({ Procfile: "web: echo hi\n" }), ""));
    expect(out).toContain("\x1b[0m\x1b[36mHH:MM:SS web.1  | \x1b[0mhi\n");
    expect(out).toContain("HH:MM:SS system | web.1 started (pid=N)\n");
    expect(out).not.toMatch(/\x1b\[[\d;]+m\S* system/);
  });

  it("colours follow the process order (after expansion) through the 12-colour cycle", () => {
    const cwd = project({ Procfile: "a: echo x; exec sleep 10\nb: echo x; exec sleep 10\nstop: sleep 1\n" });
    const out = onTty(cwd, "-c a=7,b=6 -q stop");
    const colourOf = (name: string): string | undefined => out.match(new RegExp(`\\x1b\\[0m\\x1b\\[([\\d;]+)m\\S+ ${name.replace(".", "\\.")} +\\| `))?.[1];
    const names = [...Array.from({ length: 7 }, (_, i) => `a.${i + 1}`), ...Array.from({ length: 6 }, (_, i) => `b.${i + 1}`)];
    expect(names.map((name) => colourOf(name))).toEqual([
      "36", "33", "32", "35", "31", "34", "36;1", "33;1", "32;1", "35;1", "31;1", "34;1", "36",
    ]);
  });

  it("--no-colour and --no-prefix turn colour off on a TTY", () => {
    const cwd = project({ Procfile: "web: echo hi\n" });
    expect(onTty(cwd, "--no-colour")).not.toContain("\x1b");
    expect(onTty(cwd, "--no-prefix")).not.toContain("\x1b");
  });
});
