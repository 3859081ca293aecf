/** docs/local.md (Procfile grammar and `check`), end to end. */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { localStart, logLinePattern, normalize, project, spawnLocal, sarge } from "./local-support.js";

const check = (cwd: string, args: string[] = []) => sarge(["local", "check", ...args], { cwd });

describe("sarge local: Procfile grammar (docs/local.md)", () => {
  it("check logs the process types in file order at INFO on stderr; stdout is empty", async () => {
    const cwd = project({ Procfile: "web: a\nworker: b\nclock: c\n" });
    const result = await check(cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(logLinePattern("INFO", "Valid procfile detected (web, worker, clock)", undefined));
  });

  it("splits lines as Python splitlines: \\r\\n, lone \\r, \\f, \\v, \\x1c, U+2028 all end a line", async () => {
    const cwd = project({ Procfile: "a: x\r\nb: x\rc: x\fd: x\ve: x\x1cf: x\u2028g: x" });
    const result = await check(cwd);
    expect(result.stderr).toContain("Valid procfile detected (a, b, c, d, e, f, g)");
  });

  it("names are [A-Za-z0-9_-]+, may start with a digit or '-', keep their case", async () => {
    const cwd = project({ Procfile: "1st: x\n-dash: x\nWeb_2: x\nweb: x\n" });
    expect((await check(cwd)).stderr).toContain("Valid procfile detected (1st, -dash, Web_2, web)");
  });

  it("silently ignores non-matching lines: comments, blanks, indentation, bad names, empty commands", async () => {
    const cwd = project({
      Procfile: "# comment\n\n   \n  web: indented\n\tweb: tab\nbad name: x\nweb.1: x\nweb:\nweb :x\nok: yes\n",
    });
    const result = await check(cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Valid procfile detected (ok)\n");
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("zero or more whitespace after the colon (tab too); the command is the rest of the line, verbatim", async () => {
    const cwd = project({
      Procfile: "a:echo A\nb:\techo B\nc:   echo C\nd: echo a#b 'c  d' # shell comment\ne: echo x: y\nf:: colon\n",
    });
    const result = await sarge(["local", "export", "-a", "app", "supervisord", "out"], { cwd });
    expect(result.code).toBe(0);
    const commands = readFileSync(`${cwd}/out/app.conf`, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("command="));
    expect(commands).toEqual([
      "command=/bin/sh -c 'echo A'",
      "command=/bin/sh -c 'echo B'",
      "command=/bin/sh -c 'echo C'",
      "command=/bin/sh -c 'echo a#b 'c  d' # shell comment'",
      "command=/bin/sh -c 'echo x: y'",
      "command=/bin/sh -c ': colon'",
    ]);
  });

  it("the command runs through the shell as written: '#' starts a shell comment, quotes are the shell's", async () => {
    const cwd = project({ Procfile: "a: echo a#b 'c  d' x: y # shell comment\n" });
    const result = await localStart(cwd, ["--no-prefix"]);
    expect(result.stdout.split("\n")).toContain("a#b c  d x: y");
  });

  it("trailing spaces are kept, and a command of only blanks is its last blank (see export)", async () => {
    const cwd = project({ Procfile: "web: echo hi   \nblank:   \n" });
    const result = await sarge(["local", "export", "-a", "app", "supervisord", "out"], { cwd });
    expect(result.code).toBe(0);
    const conf = readFileSync(`${cwd}/out/app.conf`, "utf8");
    expect(conf).toContain("command=/bin/sh -c 'echo hi   '\n");
    expect(conf).toContain("command=/bin/sh -c ' '\n");
  });

  it("a duplicate name is an error for check and start; nothing is started", async () => {
    const cwd = project({ Procfile: "web: touch started\nweb: touch started\n" });
    for (const command of ["check", "start"]) {
      const result = await sarge(["local", command], { cwd });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(logLinePattern("ERROR", "process names must be unique within a Procfile"));
    }
    expect(existsSync(`${cwd}/started`)).toBe(false);
  });

  it("an empty Procfile, or one without matching lines, is valid: check reports (), start prints nothing, exit 0", async () => {
    const dirs = ["", "# nothing here\n\n"].map((content) => project({ Procfile: content }));
    const checked = await Promise.all(dirs.map((cwd) => check(cwd)));
    const started = await Promise.all(dirs.map((cwd) => localStart(cwd)));
    for (const result of checked) {
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(logLinePattern("INFO", "Valid procfile detected ()"));
    }
    for (const result of started) expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("process order is file order", async () => {
    const cwd = project({ Procfile: "zeta: true\nalpha: true\nmid: true\n" });
    const result = await localStart(cwd);
    const started = normalize(result.stdout)
      .split("\n")
      .filter((line) => line.includes("started"));
    expect(started).toEqual([
      "HH:MM:SS system  | zeta.1 started (pid=N)",
      "HH:MM:SS system  | alpha.1 started (pid=N)",
      "HH:MM:SS system  | mid.1 started (pid=N)",
    ]);
  });

  it("start skips the release hook unless it is named, as Heroku does", async () => {
    const cwd = project({ Procfile: "release: echo migrating\nweb: echo serving\n" });
    const started = (result: { stdout: string }) =>
      normalize(result.stdout)
        .split("\n")
        .filter((line) => line.includes("started"))
        .map((line) => line.replace(/ +\|/, " |"));
    expect(started(await localStart(cwd))).toEqual(["HH:MM:SS system | web.1 started (pid=N)"]);
    expect(started(await localStart(cwd, ["release"]))).toEqual(["HH:MM:SS system | release.1 started (pid=N)"]);
  });
});

describe("sarge local: Procfile errors and location (docs/local.md)", () => {
  it("a missing Procfile, a directory, or an unreadable one: error, exit 1, stdout empty", async () => {
    const cwd = project({ "dir/Procfile/x": "" });
    const runs = [[], ["-f", "dir/Procfile"], ["-f", "/nonexistent/Procfile"]].flatMap((args) =>
      ["check", "start"].map((command) => sarge(["local", command, ...args], { cwd })),
    );
    for (const result of await Promise.all(runs)) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(logLinePattern("ERROR", "Procfile does not exist or is not a file"));
    }
  });

  it("the error line carries sarge's pid", async () => {
    const cwd = project();
    const run = spawnLocal(["local", "check"], { cwd });
    const result = await run.done;
    expect(result.stderr).toMatch(logLinePattern("ERROR", "Procfile does not exist or is not a file", run.pid));
  });

  it("the Procfile is joined to -d; an absolute -f ignores -d", async () => {
    const cwd = project({ "app/Procfile": "inapp: x\n", "other/P": "abs: x\n", "app/Custom": "custom: x\n" });
    const results = await Promise.all([
      check(cwd, ["-d", "app"]),
      check(cwd, ["-d", "app", "-f", "Custom"]),
      check(cwd, ["-d", "app", "-f", `${cwd}/other/P`]),
    ]);
    expect(results.map((r) => r.stderr.match(/\((.*)\)/)?.[1])).toEqual(["inapp", "custom", "abs"]);
  });

  it("Procfile name precedence: -f > PROCFILE in .env > PROCFILE in the OS env > Procfile", async () => {
    const cwd = project({
      Procfile: "default: x\n",
      "P.cli": "cli: x\n",
      "P.dotenv": "dotenv: x\n",
      "P.os": "os: x\n",
    });
    const withDotenv = project({ ".env": "PROCFILE=P.dotenv\n", "P.dotenv": "dotenv: x\n", "P.cli": "cli: x\n" });
    const results = await Promise.all([
      sarge(["local", "check"], { cwd, env: { PROCFILE: "P.os" } }),
      sarge(["local", "check"], { cwd: withDotenv, env: { PROCFILE: "P.os" } }),
      sarge(["local", "check", "-f", "P.cli"], { cwd: withDotenv, env: { PROCFILE: "P.os" } }),
      check(cwd),
    ]);
    expect(results.map((r) => r.stderr.match(/\((.*)\)/)?.[1])).toEqual(["os", "dotenv", "cli", "default"]);
  });

  it("check reads the env files too: a malformed .env fails it", async () => {
    const cwd = project({ Procfile: "web: x\n", ".env": "OK=1\nBAD='open\n" });
    const result = await check(cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(logLinePattern("ERROR", "malformed env file ./.env, line 2: no closing quotation"));
  });
});
