/**
 * Behaviour every supervisor backend must show, seen through the Supervisor
 * interface only. A backend's e2e file calls supervisorContract() with a setup
 * that starts its daemon on a fresh home.
 */
import { readProcStat, runningProcStat } from "../../src/util/proc-stat.js";
import { mkdirSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./wait.js";
import type { HomePaths } from "../../src/home/paths.js";
import type { ProgramSpec, ProgramStatus, Supervisor } from "../../src/supervise/supervisor.js";

export interface ContractHome {
  supervisor: Supervisor;
  paths: HomePaths;
  /** Stops the daemon and everything it runs, removes the home. */
  teardown(): Promise<void>;
}

const stopApps = fileURLToPath(new URL("./stop_apps.py", import.meta.url));

/** Variables a shell or a backend adds on its own: dash exports PWD; supervisord always adds SUPERVISOR_*. */
const addedByShellOrBackend = (name: string) => ["PWD", "OLDPWD", "SHLVL", "_"].includes(name) || name.startsWith("SUPERVISOR_");

export function supervisorContract(name: string, setup: () => Promise<ContractHome>): void {
  describe(`supervisor contract: ${name}`, () => {
    let home: ContractHome;
    let supervisor: Supervisor;

    beforeAll(async () => {
      home = await setup();
      supervisor = home.supervisor;
    });

    afterAll(async () => {
      await home?.teardown();
    });

    afterEach(async () => {
      // Whatever a test started, even if it failed halfway.
      for (const program of await supervisor.status()) await supervisor.remove(program.name);
      killProcessesUnder(home.paths.root);
    });

    /** A program running in its own folder under the home, so leftovers can be found by cwd. */
    function spec(program: string, command: string, extra: Partial<ProgramSpec> = {}): ProgramSpec {
      const cwd = join(home.paths.root, "apps", program);
      mkdirSync(cwd, { recursive: true });
      return {
        name: program,
        command,
        cwd,
        env: { PATH: "/usr/bin:/bin", SARGE_CONTRACT: `value with spaces and 'quotes' for ${program}` },
        logFile: join(home.paths.log, `${program}.log`),
        ...extra,
      };
    }

    it("starts a program in its own session with exactly its environment, its cwd, stdin from /dev/null, and stdout+stderr in its log", async () => {
      const started = spec("basics", "echo to-stdout; echo to-stderr >&2; pwd; readlink /proc/self/fd/0; env > env.txt; exec sleep 1000");
      const status = await supervisor.start(started);
      expect(status).toMatchObject({ name: "basics", wanted: true, logFile: started.logFile });
      expect(["starting", "running"]).toContain(status.state);
      const pid = status.pid!;
      expect(pid).toBeGreaterThan(0);
      const stat = readProcStat(pid)!;
      expect(stat.pgrp).toBe(pid);
      expect(stat.session).toBe(pid);

      await waitFor(() => readText(started.logFile).includes("/dev/null"), "the program's output in its log");
      const log = readText(started.logFile);
      expect(log).toContain("to-stdout\n");
      expect(log).toContain("to-stderr\n");
      expect(log).toContain(`${started.cwd}\n`);

      await waitFor(() => readText(join(started.cwd, "env.txt")) !== "", "env.txt");
      const env = parseEnv(readText(join(started.cwd, "env.txt")));
      for (const [key, value] of Object.entries(started.env)) expect(env[key]).toBe(value);
      expect(Object.keys(env).filter((key) => !(key in started.env) && !addedByShellOrBackend(key))).toEqual([]);

      await waitFor(async () => (await find(supervisor, "basics"))?.state === "running", "state running");
      expect((await find(supervisor, "basics"))?.pid).toBe(pid);
    });

    it("stops a forking program by its process group and leaves no process behind", async () => {
      const forking = spec("forking", "sleep 1000 & sleep 1000 & echo forked; wait");
      const { pid } = await supervisor.start(forking);
      await waitFor(() => groupMembers(pid!).length === 3, "the shell and its two children");
      const members = groupMembers(pid!);

      const stopped = await supervisor.stop("forking");
      expect(stopped).toMatchObject({ name: "forking", state: "stopped", wanted: false, pid: null });
      expect(groupMembers(pid!)).toEqual([]);
      expect(members.filter(isRunning)).toEqual([]);
      expect(processesUnder(forking.cwd)).toEqual([]);
    });

    it("sends stopSignal first and SIGKILL after stopTimeoutMs to a program that ignores it", async () => {
      const stubborn = spec("stubborn", `trap "" TERM; sleep 1000 & echo ready; wait`, { stopTimeoutMs: 700 });
      const { pid } = await supervisor.start(stubborn);
      await waitFor(() => groupMembers(pid!).length === 2, "the shell and its child");
      const began = Date.now();
      const stopped = await supervisor.stop("stubborn");
      expect(Date.now() - began).toBeGreaterThanOrEqual(650);
      expect(stopped.lastExit).toBe("signal SIGKILL");
      expect(groupMembers(pid!)).toEqual([]);

      const polite = spec("polite", `trap 'echo got-usr1; exit 0' USR1; echo up; while :; do sleep 0.1; done`, { stopSignal: "SIGUSR1" });
      await supervisor.start(polite);
      await waitFor(() => readText(polite.logFile).includes("up\n"), "the USR1 trap installed");
      expect(await supervisor.stop("polite")).toMatchObject({ state: "stopped", lastExit: "exit 0" });
      expect(readText(polite.logFile)).toContain("got-usr1");
    });

    /** A program of test/support/stop_apps.py (how gunicorn, Celery and a plain app stop), run as `shell` puts it. */
    function stopApp(program: string, mode: string, extra: Partial<ProgramSpec>, shell = (python: string) => `exec ${python}`): ProgramSpec {
      return spec(program, shell(`python3 ${stopApps} ${mode}`), extra);
    }

    it("stopTo main: a pre-fork master stops its workers itself, none is killed by the signal", async () => {
      const prefork = stopApp("prefork-main", "prefork", { stopTo: "main" });
      const { pid } = await supervisor.start(prefork);
      await waitFor(() => readText(prefork.logFile).includes("workers up"), "the master and its workers");
      expect(await supervisor.stop("prefork-main")).toMatchObject({ state: "stopped", lastExit: "exit 0" });
      const log = readText(prefork.logFile);
      expect(log.match(/graceful exit/g)).toHaveLength(2);
      expect(log).not.toContain("was terminated due to signal");
      expect(groupMembers(pid!)).toEqual([]);
    });

    it("stopTo group: every process gets the signal, so a Celery-like pool child dies mid-task; with main it finishes", async () => {
      const byGroup = stopApp("celery-group", "celery", { stopTo: "group" });
      await supervisor.start(byGroup);
      await waitFor(() => readText(byGroup.logFile).includes("task started"), "the pool child's task");
      await supervisor.stop("celery-group");
      expect(readText(byGroup.logFile)).toContain("WorkerLostError: Worker exited prematurely: signal 15");

      const byMain = stopApp("celery-main", "celery", { stopTo: "main" });
      await supervisor.start(byMain);
      await waitFor(() => readText(byMain.logFile).includes("task started"), "the pool child's task");
      expect(await supervisor.stop("celery-main")).toMatchObject({ lastExit: "exit 0" });
      expect(readText(byMain.logFile)).toContain("pool: task done\nmain: shut down\n");
    });

    it("stopTo main, a command the shell did not exec: the shell dies of the signal and the app gets it next, well within the grace", async () => {
      const notExeced = stopApp("not-execed", "plain", { stopTo: "main", stopTimeoutMs: 20_000 }, (python) => `cd . && ${python}`);
      const { pid } = await supervisor.start(notExeced);
      await waitFor(() => readText(notExeced.logFile).includes("plain: up"), "the app behind its shell");
      expect(groupMembers(pid!)).toHaveLength(2);
      const began = Date.now();
      await supervisor.stop("not-execed");
      expect(Date.now() - began).toBeLessThan(10_000);
      expect(readText(notExeced.logFile)).toContain("plain: graceful exit");
      expect(groupMembers(pid!)).toEqual([]);
    });

    it("stopTo main: what ignores the signal is SIGKILLed as a group after the grace", async () => {
      const stubborn = spec("stubborn-main", `trap "" TERM; sleep 1000 & echo ready; wait`, { stopTo: "main", stopTimeoutMs: 700 });
      const { pid } = await supervisor.start(stubborn);
      await waitFor(() => groupMembers(pid!).length === 2, "the shell and its child");
      const began = Date.now();
      expect(await supervisor.stop("stubborn-main")).toMatchObject({ lastExit: "signal SIGKILL" });
      expect(Date.now() - began).toBeGreaterThanOrEqual(650);
      expect(groupMembers(pid!)).toEqual([]);
    });

    it("restarts a crashed program with a new pid and counts the restart", async () => {
      const crashing = spec("crashing", "echo run; sleep 0.3; exit 3");
      const first = (await supervisor.start(crashing)).pid;
      const restarted = await waitFor(async () => {
        const status = await find(supervisor, "crashing");
        return status && status.restarts >= 1 && status.pid !== null && status.pid !== first ? status : undefined;
      }, "a restart");
      expect(restarted.wanted).toBe(true);
      expect(restarted.lastExit).toBe("exit 3");
      expect(readProcStat(first!)?.state ?? "gone").toMatch(/gone|Z/);
      await waitFor(() => readText(crashing.logFile).split("run\n").length - 1 >= 2, "two runs in the log");
    });

    it("lists programs in status with the main process's pid, and starts a stopped one again", async () => {
      const listening = spec("signalled", `trap 'echo got-usr2' USR2; echo up; while :; do sleep 0.1; done`);
      const { pid } = await supervisor.start(listening);
      const all = await supervisor.status();
      expect(all.map((program) => program.name)).toContain("signalled");

      await waitFor(() => readText(listening.logFile).includes("up\n"), "the trap installed");
      process.kill(pid!, "SIGUSR2");
      await waitFor(() => readText(listening.logFile).includes("got-usr2"), "the trap's output");
      expect((await find(supervisor, "signalled"))?.pid).toBe(pid);

      await supervisor.stop("signalled");
      const again = await supervisor.startExisting("signalled");
      expect(again.wanted).toBe(true);
      expect(["starting", "running"]).toContain(again.state);
      expect(again.pid).not.toBe(pid);
      expect(isRunning(again.pid!)).toBe(true);
      await waitFor(() => readText(listening.logFile).split("up\n").length - 1 === 2, "the second run's output");
    });

    it("refuses a second start of a running name, and errors on unknown names", async () => {
      const single = spec("single", "exec sleep 1000");
      await supervisor.start(single);
      await expect(supervisor.start(single)).rejects.toThrow(/single/);
      await expect(supervisor.stop("no-such-program")).rejects.toThrow(/no-such-program/);
    });

    it("removes a program: stopped, forgotten, and removing it again is harmless", async () => {
      const removable = spec("removable", "sleep 1000 & wait");
      const { pid } = await supervisor.start(removable);
      await waitFor(() => groupMembers(pid!).length === 2, "the shell and its child");
      await supervisor.remove("removable");
      expect(groupMembers(pid!)).toEqual([]);
      expect((await supervisor.status()).map((program) => program.name)).not.toContain("removable");
      await supervisor.remove("removable");
    });
  });
}

// ---- helpers shared with the backends' own e2e tests ----

/** Alive and not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  return runningProcStat(pid) !== null;
}

function livePids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter(isRunning);
}

export function groupMembers(pgid: number): number[] {
  return livePids().filter((pid) => readProcStat(pid)?.pgrp === pgid);
}

/** Live processes whose working directory is `dir` or below: a test's programs and anything they left. */
export function processesUnder(dir: string): number[] {
  return livePids().filter((pid) => {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return cwd === dir || cwd.startsWith(dir + "/");
    } catch {
      return false;
    }
  });
}

export function killProcessesUnder(dir: string): void {
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export async function find(supervisor: Supervisor, name: string): Promise<ProgramStatus | undefined> {
  return (await supervisor.status()).find((program) => program.name === name);
}

export { waitFor };

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}
