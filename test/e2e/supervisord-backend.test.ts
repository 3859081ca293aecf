/**
 * The supervisord backend against a real supervisord (Debian package
 * `supervisor`), one per temporary home, started the way bin/supervisord
 * starts it (supervisordCommand) and killed in afterAll even when tests fail.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { SupervisorNotRunningError } from "../../src/util/errors.js";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { connectSupervisordBackend, type SupervisordSupervisor } from "../../src/supervise/supervisord/backend.js";
import {
  connectSupervisord,
  programConfPath,
  runningPrograms,
  shutdownSupervisord,
  supervisordCommand,
  supervisordConfPath,
  writeSupervisordConfig,
} from "../../src/supervise/supervisord/index.js";
import { setAutostart } from "../../src/supervise/supervisord/config.js";
import type { ProgramSpec } from "../../src/supervise/supervisor.js";
import {
  find,
  groupMembers,
  isRunning,
  killProcessesUnder,
  processesUnder,
  readText,
  supervisorContract,
  waitFor,
} from "../support/supervisor-contract.js";

interface Daemon {
  paths: HomePaths;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

const homes: string[] = [];
const daemons: Daemon[] = [];

function newHome(): HomePaths {
  const home = mkdtempSync(join(tmpdir(), "sarge-supervisord-"));
  homes.push(home);
  return homePaths(home);
}

/** What bin/supervisord does: supervisordCommand(paths), in the foreground. */
async function startSupervisord(paths: HomePaths, fatalRetrySeconds?: number): Promise<Daemon> {
  await writeSupervisordConfig(paths, fatalRetrySeconds === undefined ? {} : { fatalRetrySeconds });
  const [bin, ...args] = supervisordCommand(paths);
  const child = spawn(bin!, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const daemon = { paths, child, output: () => output, exited };
  daemons.push(daemon);
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`supervisord exited early:\n${output}`);
    try {
      await (await connectSupervisord(paths)).close();
      return true;
    } catch (e) {
      if (e instanceof SupervisorNotRunningError) return false;
      throw e;
    }
  }, "supervisord's socket", 30_000);
  return daemon;
}

/** SIGTERM (supervisord stops its programs by group), SIGKILL after 30 s; then anything left under the home. */
async function stopSupervisord(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
    daemon.child.kill("SIGTERM");
    const timer = setTimeout(() => daemon.child.kill("SIGKILL"), 30_000);
    await daemon.exited;
    clearTimeout(timer);
  }
  killProcessesUnder(daemon.paths.root);
}

afterAll(async () => {
  for (const daemon of daemons) await stopSupervisord(daemon);
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the shared contract

supervisorContract("supervisord", async () => {
  const paths = newHome();
  const daemon = await startSupervisord(paths);
  const supervisor = await connectSupervisord(paths);
  return {
    supervisor,
    paths,
    async teardown() {
      await supervisor.close();
      await stopSupervisord(daemon);
    },
  };
});

// ---------------------------------------------------------------- supervisord specifics

describe("supervisord backend", () => {
  let paths: HomePaths;
  let daemon: Daemon;
  let sup: SupervisordSupervisor;

  beforeAll(async () => {
    paths = newHome();
    daemon = await startSupervisord(paths, 1);
    sup = await connectSupervisordBackend(paths);
  });

  afterEach(async () => {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
    for (const program of await sup.status()) await sup.remove(program.name);
    killProcessesUnder(join(paths.root, "apps"));
  });

  function spec(name: string, command: string, extra: Partial<ProgramSpec> = {}): ProgramSpec {
    const cwd = join(paths.root, "apps", name);
    mkdirSync(cwd, { recursive: true });
    return { name, command, cwd, env: { PATH: "/usr/bin:/bin" }, logFile: join(paths.log, `${name}.log`), ...extra };
  }

  it("keeps the socket private: var/run 0700, socket 0600; supervisorctl works with the generated config", async () => {
    expect(statSync(paths.run).mode & 0o777).toBe(0o700);
    expect(statSync(paths.supervisorSocket).mode & 0o777).toBe(0o600);
    const { stdout } = await execa("supervisorctl", ["-c", supervisordConfPath(paths), "status"], { reject: false });
    expect(stdout).toMatch(/sarge\.restarter\s+RUNNING/);
  });

  it("stop of `sh -c 'sleep 1000 & wait'` leaves no process: pids and process group gone", async () => {
    const s = spec("forker", "sleep 1000 & wait");
    const { pid } = await sup.start(s);
    const members = await waitFor(() => {
      const m = groupMembers(pid!);
      return m.length === 2 ? m : undefined;
    }, "sh and sleep");
    const stopped = await sup.stop("forker");
    expect(stopped).toMatchObject({ state: "stopped", wanted: false, pid: null });
    expect(groupMembers(pid!)).toEqual([]);
    expect(members.filter(isRunning)).toEqual([]);
    expect(processesUnder(s.cwd)).toEqual([]);
    expect(readText(programConfPath(paths, "forker"))).toMatch(/^autostart=false$/m);
  });

  it("kills group members that outlive the main process (supervisord alone reports STOPPED and leaves them)", async () => {
    // the shell exits on TERM at once; its child ignores TERM and would survive without sarge's group check
    const s = spec("straggler", `(trap '' TERM; exec sleep 1000) & echo started; wait`, { stopTimeoutMs: 1000 });
    const { pid } = await sup.start(s);
    await waitFor(() => groupMembers(pid!).length === 2, "sh and the TERM-proof child");
    const began = Date.now();
    await sup.stop("straggler");
    expect(Date.now() - began).toBeGreaterThanOrEqual(800); // the grace period before SIGKILL
    expect(groupMembers(pid!)).toEqual([]);
  });

  it("a crash after startsecs is restarted at once; a quick crash goes through BACKOFF; both counted", async () => {
    const late = spec("late-crash", "echo run; sleep 1.5; exit 4");
    const first = (await sup.start(late)).pid;
    const again = await waitFor(async () => {
      const st = await find(sup, "late-crash");
      return st && st.pid !== null && st.pid !== first && st.restarts >= 1 ? st : undefined;
    }, "the restart");
    expect(again.lastExit).toBe("exit 4");

    const quick = spec("quick-crash", "exit 5");
    await sup.start(quick);
    const backoff = await waitFor(async () => {
      const st = await find(sup, "quick-crash");
      return st && st.restarts >= 1 && st.state === "backoff" ? st : undefined;
    }, "backoff");
    expect(backoff).toMatchObject({ wanted: true, lastExit: "exit 5" });
  });

  it("never gives up: a FATAL program is started again by sarge.restarter; stop() makes it stay down", async () => {
    // startretries=1: FATAL after two quick exits; the restarter (1 s here, 60 s by default) revives it
    const impatient = await connectSupervisordBackend(paths, { startRetries: 1 });
    await impatient.start(spec("hopeless", "echo try; exit 1"));
    await waitFor(async () => (await sup.client.getProcessInfo("hopeless")).statename === "FATAL", "FATAL", 20_000);
    const fatal = (await find(sup, "hopeless"))!;
    expect(fatal).toMatchObject({ state: "backoff", wanted: true });
    const before = fatal.restarts;
    await waitFor(async () => ((await find(sup, "hopeless"))?.restarts ?? 0) > before, "a start after FATAL", 20_000);
    expect(readText(join(paths.log, "supervisord-restarter.log"))).toContain("started hopeless again after it was FATAL");

    await waitFor(async () => (await sup.client.getProcessInfo("hopeless")).statename === "FATAL", "FATAL again", 20_000);
    expect(await sup.stop("hopeless")).toMatchObject({ state: "stopped", wanted: false });
    const runs = readText(join(paths.log, "hopeless.log")).split("try\n").length;
    await sleep(7_000); // longer than the retry delay plus one 5 s tick
    expect(readText(join(paths.log, "hopeless.log")).split("try\n").length).toBe(runs);
    expect(await find(sup, "hopeless")).toMatchObject({ state: "stopped", wanted: false });
    await impatient.close();
  });

  it("startExisting on a STOPPING program waits for the stop, then really starts it", async () => {
    const s = spec("slowstop", `trap 'sleep 0.7; exit 0' TERM; echo up; while :; do sleep 0.1; done`);
    const { pid } = await sup.start(s);
    await waitFor(async () => (await find(sup, "slowstop"))?.state === "running", "running");
    await sup.client.stopProcess("slowstop", false); // supervisord: STOPPING
    expect((await sup.client.getProcessInfo("slowstop")).statename).toBe("STOPPING");
    const started = await sup.startExisting("slowstop");
    expect(started.pid).not.toBe(pid);
    expect(["starting", "running"]).toContain(started.state);
    await waitFor(async () => (await find(sup, "slowstop"))?.state === "running", "running again");
  });

  it("writes output to spec.logFile and rotates it by spec.logs", async () => {
    // the program writes its log itself; sarge.restarter rotates it each second: a burst of ~1.3 KB, then the next once it was rotated
    const s = spec(
      "chatty",
      `for i in 0 1 2 3; do j=0; while [ $j -lt 40 ]; do echo "line $i.$j of some chatty output"; j=$((j+1)); done; ` +
        `while [ $(stat -c %s "$LOG") -ge 1000 ]; do sleep 0.05; done; done; exec sleep 1000`,
      { logs: { maxBytes: 1000, keep: 2 } },
    );
    s.env["LOG"] = s.logFile;
    await sup.start(s);
    const all = () => [s.logFile, `${s.logFile}.1`, `${s.logFile}.2`].map(readText).join("");
    await waitFor(() => existsSync(`${s.logFile}.2`) && !all().includes("line 0.") && all().includes("line 3.39 of"), "two rotated files, the first burst rotated away");
    expect(existsSync(`${s.logFile}.3`)).toBe(false); // keep: 2
    for (const f of [`${s.logFile}.1`, `${s.logFile}.2`]) expect(statSync(f).size).toBeGreaterThanOrEqual(1000);
  });

  it("remove forgets the program: include file and supervisord group gone, log kept", async () => {
    const s = spec("gone", "echo bye; exec sleep 1000");
    await sup.start(s);
    await waitFor(() => readText(s.logFile).includes("bye"), "output");
    await sup.remove("gone");
    expect(existsSync(programConfPath(paths, "gone"))).toBe(false);
    expect((await sup.client.getAllProcessInfo()).map((i) => i.name)).not.toContain("gone");
    expect(readText(s.logFile)).toContain("bye");
    expect(readdirSync(join(paths.supervisorEtc, "programs"))).toEqual([]);
  });

  it("restart counts: kept by stop + startExisting, started over by a new start(spec) (as the builtin)", async () => {
    const s = spec("counted", "echo run; sleep 1.2; exit 2");
    await sup.start(s);
    await waitFor(async () => ((await find(sup, "counted"))?.restarts ?? 0) >= 1, "a restart");
    await sup.stop("counted");
    const kept = (await find(sup, "counted"))!.restarts;
    expect(kept).toBeGreaterThanOrEqual(1);
    await sup.startExisting("counted");
    expect((await find(sup, "counted"))!.restarts).toBeGreaterThanOrEqual(kept);
    await sup.stop("counted");
    const fresh = await sup.start(s);
    expect(fresh.lastExit).toBeNull();
    await waitFor(async () => (await find(sup, "counted"))?.restarts === 0, "the count started over");
  });

  it("a start replacing a stopped program with a changed spec runs the new command", async () => {
    await sup.start(spec("swap", "echo first; exec sleep 1000"));
    await sup.stop("swap");
    const s2 = spec("swap", "echo second; exec sleep 1000", { env: { PATH: "/usr/bin:/bin", V: "2" } });
    await sup.start(s2);
    await waitFor(() => readText(s2.logFile).includes("second"), "the new command's output");
    expect(readText(programConfPath(paths, "swap"))).toContain("'V=2'");
  });

  it("measures: median of one status call and one start+stop", async () => {
    const names = ["m-a", "m-b", "m-c", "m-d", "m-e"];
    for (const n of names) await sup.start(spec(n, "exec sleep 1000"));
    const timeStatus = async () => {
      const ms: number[] = [];
      for (let i = 0; i < 21; i++) {
        const t = performance.now();
        await sup.status();
        ms.push(performance.now() - t);
      }
      return ms;
    };
    const statusRunningMs = await timeStatus(); // nothing exited yet: one XML-RPC call
    // kept stopped instances, as after deploys: status also reads supervisord's log for lastExit
    await sup.stop("m-d");
    await sup.stop("m-e");
    const statusMs = await timeStatus();
    const startMs: number[] = [];
    const stopMs: number[] = [];
    const s = spec("m-cycle", "exec sleep 1000");
    for (let i = 0; i < 10; i++) {
      let t = performance.now();
      if (i === 0) await sup.start(s);
      else await sup.startExisting("m-cycle");
      startMs.push(performance.now() - t);
      t = performance.now();
      await sup.stop("m-cycle");
      stopMs.push(performance.now() - t);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `supervisord backend: status median ${median(statusRunningMs).toFixed(1)} ms (5 running), ` +
        `${median(statusMs).toFixed(1)} ms (4 running, 2 stopped); ` +
        `start median ${median(startMs).toFixed(1)} ms (first, with reloadConfig: ${startMs[0]!.toFixed(1)} ms); ` +
        `stop median ${median(stopMs).toFixed(1)} ms`,
    );
    expect(median(statusMs)).toBeLessThan(200);
  });

  it("runningPrograms lists what runs; supervisord restarted brings back only the wanted programs", async () => {
    await sup.start(spec("keeper", "exec sleep 1000"));
    await sup.start(spec("kept-stopped", "exec sleep 1000"));
    await sup.stop("kept-stopped");
    expect(await runningPrograms(paths)).toEqual(["keeper"]);

    await shutdownSupervisord(paths);
    await daemon.exited;
    expect(await runningPrograms(paths)).toEqual([]);
    await expect(connectSupervisord(paths)).rejects.toBeInstanceOf(SupervisorNotRunningError);
    await expect(sup.status()).rejects.toBeInstanceOf(SupervisorNotRunningError);

    daemon = await startSupervisord(paths, 1);
    sup = await connectSupervisordBackend(paths);
    await waitFor(async () => (await find(sup, "keeper"))?.state === "running", "keeper back");
    expect(await find(sup, "kept-stopped")).toMatchObject({ state: "stopped", wanted: false });
    expect(await sup.startExisting("kept-stopped")).toMatchObject({ wanted: true });
  });

  it("supervisord killed with SIGKILL: the program keeps running and writing its log; the next supervisord adopts it, and stop reaches its group", async () => {
    const s = spec("survivor", "sleep 1000 & while :; do echo tick; sleep 0.05; done");
    const { pid } = await sup.start(s);
    await waitFor(() => groupMembers(pid!).length >= 2, "the loop and its sleep");
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    const size = statSync(s.logFile).size;
    await waitFor(() => statSync(s.logFile).size > size + 100, "the program to go on writing its log");
    expect(isRunning(pid!)).toBe(true);
    await expect(connectSupervisord(paths)).rejects.toBeInstanceOf(SupervisorNotRunningError);

    daemon = await startSupervisord(paths, 1);
    sup = await connectSupervisordBackend(paths);
    const back = await waitFor(async () => {
      const st = await find(sup, "survivor");
      return st?.state === "running" ? st : undefined;
    }, "survivor adopted");
    expect(back.pid).toBe(pid); // the same process: nothing was started again
    const members = groupMembers(pid!);
    await sup.stop("survivor");
    expect(members.filter(isRunning)).toEqual([]);
    expect(await find(sup, "survivor")).toMatchObject({ state: "stopped", pid: null });
  });

  it("supervisord killed while sarge stopped a program: the next supervisord stops it (not wanted any more), and remove() stops one still running", async () => {
    const s = spec("unwanted", "trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.05; done");
    const { pid } = await sup.start(s);
    await setAutostart(programConfPath(paths, "unwanted"), false); // what stop() does first, before supervisord was killed
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    expect(isRunning(pid!)).toBe(true);
    daemon = await startSupervisord(paths, 1);
    sup = await connectSupervisordBackend(paths);
    await waitFor(() => !isRunning(pid!), "sarge.restarter to stop it");
    expect(readText(s.logFile)).toContain("got TERM\n");
    expect(await find(sup, "unwanted")).toMatchObject({ state: "stopped", pid: null });
  });
});
