/** docs/local.md, `run`, end to end. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { signalPending } from "../support/processes.js";
import { waitFor } from "../support/wait.js";
import { alive, killGroup, project, sarge, spawnLocal } from "./local-support.js";

const run = (cwd: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}) =>
  sarge(["local", "run", ...args], { cwd, ...options });

describe("sarge local run (docs/local.md)", () => {
  it("loads the env files over the OS env; sets no PORT and no HONCHO_PROCESS_NAME; needs no Procfile", async () => {
    const cwd = project({ ".env": "FROM_DOTENV=1\nSHARED=dotenv\n" });
    const result = await run(cwd, ["sh", "-c", 'echo "$FROM_DOTENV $SHARED ${PORT-none} ${HONCHO_PROCESS_NAME-none} $OS_ONLY"'], {
      env: { SHARED: "os", OS_ONLY: "os" },
    });
    expect(result).toMatchObject({ code: 0, stdout: "1 dotenv none none os\n", stderr: "" });
  });

  it("an OS or .env PORT passes through", async () => {
    const cwd = project({ ".env": "PORT=7000\n" });
    const [fromDotenv, fromOs] = await Promise.all([
      run(cwd, ["sh", "-c", "echo $PORT"], { env: { PORT: "8000" } }),
      run(project(), ["sh", "-c", "echo $PORT"], { env: { PORT: "8000" } }),
    ]);
    expect(fromDotenv.stdout).toBe("7000\n");
    expect(fromOs.stdout).toBe("8000\n");
  });

  it("-e and -d choose the env files, before the command", async () => {
    const cwd = project({ "app/.env": "WHERE=app\n", "app/other.env": "WHERE=other\n" });
    const results = await Promise.all([
      run(cwd, ["-d", "app", "printenv", "WHERE"]),
      run(cwd, ["-d", "app", "-e", "other.env", "printenv", "WHERE"]),
    ]);
    expect(results.map((r) => r.stdout)).toEqual(["app\n", "other\n"]);
  });

  it("arguments arrive verbatim: no globbing, no expansion, spaces and quotes kept", async () => {
    const result = await run(project({ "a.txt": "" }), ["printf", "[%s]", "$HOME", "*", "a  b", "it's", "", "~", "a;b"]);
    expect(result.stdout).toBe("[$HOME][*][a  b][it's][][~][a;b]");
  });

  it("options after the command are the command's; one leading -- is removed", async () => {
    const cwd = project({ "f.env": "FROM_F=yes\n" });
    const results = await Promise.all([
      run(cwd, ["printf", "%s ", "-e", "f.env"]),
      run(cwd, ["--", "printf", "%s ", "x"]),
      run(cwd, ["-e", "f.env", "--", "sh", "-c", "echo $FROM_F"]),
      run(cwd, ["printf", "%s ", "--", "x"]),
      run(cwd, ["printf", "%s ", "--help", "--home", "-v"]),
    ]);
    expect(results.map((r) => r.stdout)).toEqual(["-e f.env ", "x ", "yes\n", "-- x ", "--help --home -v "]);
  });

  it("`run 'echo hi'` looks for a program named `echo hi`: exit 127", async () => {
    const result = await run(project(), ["echo hi"]);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe("/bin/sh: 1: echo hi: not found\n");
    expect(result.stdout).toBe("");
  });

  it("`run` with no command runs `sh -c ''` and exits 0", async () => {
    expect(await run(project(), [])).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("stdin, stdout and stderr are inherited, not captured or prefixed", async () => {
    const result = await run(project(), ["sh", "-c", "cat; echo to-stderr >&2"], { input: "from stdin\n" });
    expect(result).toMatchObject({ code: 0, stdout: "from stdin\n", stderr: "to-stderr\n" });
  });

  it("the exit status is the command's; a command killed by signal N gives 128+N (dash does not exec)", async () => {
    const cwd = project();
    const [seven, killed] = await Promise.all([run(cwd, ["sh", "-c", "exit 7"]), run(cwd, ["sh", "-c", "kill -9 $$"])]);
    expect(seven.code).toBe(7);
    expect(killed.code).toBe(137);
  });

  it("the child runs in sarge's process group", async () => {
    const own = execFileSync("ps", ["-o", "pgid=", "-p", String(process.pid)]).toString().trim();
    const child = await run(project(), ["sh", "-c", "ps -o pgid= -p $$"]);
    expect(child.stdout.trim()).toBe(own);
  });

  it("SIGINT to sarge alone is ignored; a terminal Ctrl-C (SIGINT to the group) reaches the child", async () => {
    const cwd = project();
    const sargeRun = spawnLocal(
      ["local", "run", "sh", "-c", `trap 'echo child got INT; exit 3' INT; echo ready; while :; do sleep 0.05; done`],
      { cwd, detached: true },
    );
    await sargeRun.waitFor(/ready/);
    sargeRun.signal("SIGINT");
    // taken: no longer pending (a sarge without a handler dies of it: then it is not alive)
    await waitFor(() => !signalPending(sargeRun.pid, "SIGINT"), "sarge to take the SIGINT");
    expect(alive(sargeRun.pid)).toBe(true);
    expect(sargeRun.child.exitCode).toBeNull();
    expect(sargeRun.child.signalCode).toBeNull();
    expect(sargeRun.stdout).not.toContain("got INT");
    process.kill(-sargeRun.pid, "SIGINT");
    const result = await sargeRun.done;
    expect(result.stdout).toContain("child got INT");
    // the wrapper /bin/sh (dash) dies by SIGINT: like honcho, 256−2
    expect(result.code).toBe(254);
    expect(result.signal).toBeNull();
    killGroup(sargeRun.pid);
  });

  it("SIGTERM to sarge kills sarge and leaves the child running", async () => {
    const sargeRun = spawnLocal(["local", "run", "sh", "-c", 'echo "pid $$"; exec sleep 30'], {
      cwd: project(),
      detached: true,
    });
    const [, pid] = await sargeRun.waitFor(/pid (\d+)/);
    sargeRun.signal("SIGTERM");
    const result = await sargeRun.done;
    expect(result.signal).toBe("SIGTERM");
    expect(alive(Number(pid))).toBe(true);
    killGroup(sargeRun.pid);
  });
});
