import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { connect as connectSocket, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { SupervisorNotRunningError } from "../../src/util/errors.js";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { connectBuiltin, type BuiltinClient } from "../../src/supervise/builtin/client.js";
import { builtinFiles } from "../../src/supervise/builtin/daemon.js";
import type { ProgramSpec } from "../../src/supervise/supervisor.js";
import { sargeBin, spawnSarge } from "../support/cli.js";
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
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `bin/sarge --home <home> supervisord` as a real separate process, with at most `maxFiles` open files if given. */
function spawnDaemon(home: string, maxFiles?: number): Daemon {
  const args = ["--home", home, "supervisord"];
  const options = { timeoutMs: 60 * 60_000 };
  const daemon = maxFiles === undefined ? spawnSarge(args, options) : spawnSarge([`--nofile=${maxFiles}`, "--", sargeBin, ...args], { ...options, bin: "prlimit" });
  return { child: daemon.child, output: () => daemon.stdout + daemon.stderr, exited: daemon.done };
}

/** Everything a test started, torn down after it whether it passed or not. */
const homes: string[] = [];
const daemons: Daemon[] = [];
const clients: BuiltinClient[] = [];
/** Process groups started outside any home, standing for unrelated processes. */
const strangers: number[] = [];

/** A home as far as `sarge supervisord` needs one: a config that names the builtin backend. */
function newHome(): HomePaths {
  const home = mkdtempSync(join(tmpdir(), "sarge-builtin-"));
  homes.push(home);
  const paths = homePaths(home);
  mkdirSync(paths.etc, { recursive: true });
  writeFileSync(paths.config, "port_range: [5010, 5099]\nsupervisor: builtin\n");
  return paths;
}

async function startDaemon(paths: HomePaths, maxFiles?: number): Promise<Daemon> {
  const daemon = spawnDaemon(paths.root, maxFiles);
  daemons.push(daemon);
  await waitFor(async () => {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) throw new Error(`the daemon exited early:\n${daemon.output()}`);
    try {
      await (await connect(paths)).ping();
      return true;
    } catch (error) {
      if (error instanceof SupervisorNotRunningError) return false;
      throw error;
    }
  }, "the daemon's socket");
  return daemon;
}

async function connect(paths: HomePaths): Promise<BuiltinClient> {
  const client = await connectBuiltin(paths);
  clients.push(client);
  return client;
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill("SIGTERM");
  const timeout = sleep(30_000).then(() => daemon.child.kill("SIGKILL"));
  await Promise.race([daemon.exited, timeout]);
}

async function cleanUp(): Promise<void> {
  for (const pgid of strangers.splice(0)) killGroup(pgid);
  for (const client of clients.splice(0)) await client.close();
  for (const daemon of daemons.splice(0)) await stopDaemon(daemon);
  for (const home of homes.splice(0)) {
    killProcessesUnder(home);
    rmSync(home, { recursive: true, force: true });
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone
  }
}

/** An unrelated process group: `script` runs as its leader and prints the pids of the other members it starts. */
async function strangerGroup(script: string): Promise<{ pgid: number; members: number[] }> {
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  strangers.push(child.pid!);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  const others = await waitFor(() => (output.endsWith("\n") ? output.trim().split(/\s+/).map(Number) : undefined), "the group's members");
  return { pgid: child.pid!, members: [child.pid!, ...others] };
}

/** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/** A connection to the daemon's socket that speaks no protocol, and what it received. */
async function rawConnection(paths: HomePaths): Promise<{ socket: Socket; received(): string; closed: Promise<unknown> }> {
  const socket = connectSocket(paths.supervisorSocket);
  let received = "";
  socket.on("data", (chunk) => (received += chunk));
  socket.on("error", () => undefined); // the daemon may cut a connection; 'close' tells
  const closed = new Promise((resolve) => socket.once("close", resolve));
  await once(socket, "connect");
  return { socket, received: () => received, closed };
}

/** What a killed sarge command does: asks, lets the answer arrive unread, and closes (the daemon's read then fails with ECONNRESET). */
const closeWithoutReading = `
import fcntl, socket, struct, sys, termios, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"method":"status","params":{}}\\n')
while struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\\0" * 4))[0] == 0:
    time.sleep(0.01)
s.close()
`;

function program(paths: HomePaths, name: string, command: string, extra: Partial<ProgramSpec> = {}): ProgramSpec {
  const cwd = join(paths.root, "apps", name);
  mkdirSync(cwd, { recursive: true });
  return { name, command, cwd, env: { PATH: "/usr/bin:/bin" }, logFile: join(paths.log, `${name}.log`), ...extra };
}

supervisorContract("builtin", async () => {
  const paths = newHome();
  await startDaemon(paths);
  const supervisor = await connect(paths);
  return { supervisor, paths, teardown: cleanUp };
});

describe("builtin supervisor daemon", () => {
  afterEach(cleanUp);

  it("listens on a unix socket with mode 0600 and writes its pid file", async () => {
    const paths = newHome();
    const daemon = await startDaemon(paths);
    const socket = statSync(paths.supervisorSocket);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(readFileSync(join(paths.run, "supervisor.pid"), "utf8")).toBe(`${daemon.child.pid}\n`);
    expect(daemon.output()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z supervisor for .* listening on .*supervisor\.sock/m);
  });

  it("refuses to start a program whose working directory is missing, naming it, and does not register it", async () => {
    const paths = newHome();
    await startDaemon(paths);
    const supervisor = await connect(paths);
    const lost = { ...program(paths, "lost", "exec sleep 1000"), cwd: join(paths.root, "apps", "nowhere") };
    await expect(supervisor.start(lost)).rejects.toThrow(`cannot start lost: working directory ${lost.cwd} does not exist`);
    expect(await supervisor.status()).toEqual([]);
  });

  it("refuses a second daemon on the same home and keeps the first one serving", async () => {
    const paths = newHome();
    const first = await startDaemon(paths);
    const second = spawnDaemon(paths.root);
    daemons.push(second);
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toContain(`sarge: the supervisor is already running for ${paths.root} (pid ${first.child.pid})`);
    expect(await (await connect(paths)).ping()).toBe(first.child.pid);
  });

  it("tells the client how to start it when nothing listens (no socket, or one left by a killed daemon)", async () => {
    const paths = newHome();
    const message = `supervisor is not running; start it with ${paths.root}/bin/supervisord`;
    await expect(connectBuiltin(paths)).rejects.toThrow(SupervisorNotRunningError);
    await expect(connectBuiltin(paths)).rejects.toThrow(message);

    const daemon = await startDaemon(paths);
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    expect(existsSync(paths.supervisorSocket)).toBe(true);
    await expect(connectBuiltin(paths)).rejects.toThrow(message);
  });

  it("restarts with a doubling backoff (cut short by an explicit start), after killing what the dead leader left behind", async () => {
    const paths = newHome();
    await startDaemon(paths);
    const supervisor = await connect(paths);
    const crashing = program(paths, "crashing", "date +%s%N >> starts.txt; exit 1");
    const leaving = program(paths, "leaving", "sleep 1000 & echo $! >> children.txt; sleep 0.3; exit 1");
    await supervisor.start(crashing);
    await supervisor.start(leaving);

    const starts = await waitFor(() => {
      const lines = readText(join(crashing.cwd, "starts.txt")).trim().split("\n");
      return lines.length >= 3 ? lines.map((line) => Number(line) / 1e6) : undefined;
    }, "three runs");
    const [gap1, gap2] = [starts[1]! - starts[0]!, starts[2]! - starts[1]!];
    expect(gap1).toBeGreaterThanOrEqual(900);
    expect(gap1).toBeLessThan(1_800);
    expect(gap2).toBeGreaterThanOrEqual(1_900);
    expect(gap2).toBeLessThan(2_800);
    const status = await waitFor(async () => {
      const current = await find(supervisor, "crashing");
      return current?.state === "backoff" && current.restarts === 2 ? current : undefined;
    }, "the wait before the third restart");
    expect(status).toMatchObject({ lastExit: "exit 1", wanted: true, pid: null });

    // Asked to start while waiting out its 4 s backoff, it starts at once.
    const asked = Date.now();
    await supervisor.startExisting("crashing");
    await waitFor(() => readText(join(crashing.cwd, "starts.txt")).trim().split("\n").length === 4, "a start on request");
    expect(Date.now() - asked).toBeLessThan(1_500);

    // The second run wrote its child's pid only after the daemon had killed the first run's child.
    const children = await waitFor(() => {
      const lines = readText(join(leaving.cwd, "children.txt")).trim().split("\n");
      return lines.length >= 2 ? lines.map(Number) : undefined;
    }, "a second run");
    expect(isRunning(children[0]!)).toBe(false);
  });

  it("after a SIGKILL, a new daemon adopts live programs without restarting them and restarts dead ones, leaving no orphan", async () => {
    const paths = newHome();
    const first = await startDaemon(paths);
    let supervisor = await connect(paths);
    const keeper = program(paths, "keeper", "sleep 1000 & wait");
    const victim = program(paths, "victim", "exec sleep 1000");
    const keeperPid = (await supervisor.start(keeper)).pid!;
    const victimPid = (await supervisor.start(victim)).pid!;
    await waitFor(() => groupMembers(keeperPid).length === 2, "keeper's shell and child");
    const keeperMembers = groupMembers(keeperPid).sort();

    first.child.kill("SIGKILL");
    await first.exited;
    expect(isRunning(keeperPid)).toBe(true);
    process.kill(-victimPid, "SIGKILL"); // dies while no daemon watches
    await waitFor(() => groupMembers(victimPid).length === 0, "the victim to die");

    const second = await startDaemon(paths);
    supervisor = await connect(paths);
    const victimAgain = await waitFor(async () => {
      const status = await find(supervisor, "victim");
      return status?.pid && status.pid !== victimPid ? status : undefined;
    }, "the victim to be started again");
    expect(victimAgain.wanted).toBe(true);
    const keeperStatus = (await find(supervisor, "keeper"))!;
    expect(keeperStatus).toMatchObject({ state: "running", wanted: true, pid: keeperPid, restarts: 0 });
    expect(second.output()).toContain(`adopted keeper (pid ${keeperPid})`);
    // No duplicate: exactly the processes that were there before the daemon died.
    expect(processesUnder(keeper.cwd).sort()).toEqual(keeperMembers);
    expect(processesUnder(victim.cwd)).toEqual([victimAgain.pid]);

    // An adopted program is still supervised: its death is noticed, its leftovers killed, and it is restarted.
    process.kill(keeperPid, "SIGKILL");
    const keeperAgain = await waitFor(async () => {
      const status = await find(supervisor, "keeper");
      return status?.pid && status.pid !== keeperPid ? status : undefined;
    }, "the adopted keeper to be restarted");
    expect(keeperAgain.restarts).toBe(1);
    expect(keeperMembers.filter(isRunning)).toEqual([]);
    await waitFor(() => processesUnder(keeper.cwd).length === 2, "the new keeper's shell and child");
    expect(groupMembers(keeperAgain.pid!).sort()).toEqual(processesUnder(keeper.cwd).sort());
  });

  it("a new daemon over a program list cut short takes its last good copy and adopts what runs", async () => {
    const paths = newHome();
    const first = await startDaemon(paths);
    let supervisor = await connect(paths);
    const keeperPid = (await supervisor.start(program(paths, "keeper", "exec sleep 1000"))).pid!;
    first.child.kill("SIGKILL");
    await first.exited;
    const list = builtinFiles(paths).programs;
    writeFileSync(list, readFileSync(list, "utf8").slice(0, 64)); // what a full disk left before writes were checked

    const second = await startDaemon(paths);
    supervisor = await connect(paths);
    expect(await find(supervisor, "keeper")).toMatchObject({ state: "running", wanted: true, pid: keeperPid, restarts: 0 });
    expect(second.output()).toContain(`${list} is damaged`);
    expect(second.output()).toContain(`using its copy ${list}.bak`);
    expect(second.output()).toContain(`adopted keeper (pid ${keeperPid})`);
    expect(processesUnder(join(paths.root, "apps", "keeper"))).toEqual([keeperPid]);
  });

  it("after a reboot, leaves alone the processes that now have the pids it recorded: neither adopted nor signalled", async () => {
    const paths = newHome();
    // The previous boot's leader pid now leads a live group with the same start time (services started at boot have close ones)...
    const sameStart = await strangerGroup("sleep 1000 & echo $!; wait");
    // ... or names a group whose leader has exited and whose members live on.
    const leaderGone = await strangerGroup("sleep 1000 & echo $!");
    await waitFor(() => !isRunning(leaderGone.pgid), "the second group's leader to exit");
    const fromOtherBoot = (name: string, pid: number, startTime: string) => ({
      spec: program(paths, name, "exec sleep 1000"),
      ...{ wanted: true, pid, startTime, startedAt: "2026-12-01T00:00:00.000Z", restarts: 0, lastExit: null },
      bootId: "00000000-0000-4000-8000-000000000000",
    });
    const recorded = [fromOtherBoot("same-start", sameStart.pgid, startTimeOf(sameStart.pgid)), fromOtherBoot("leader-gone", leaderGone.pgid, "1")];
    mkdirSync(paths.run, { recursive: true });
    writeFileSync(join(paths.run, "supervisor-programs.json"), JSON.stringify({ version: 1, programs: recorded }));

    const daemon = await startDaemon(paths);
    const supervisor = await connect(paths);
    for (const name of ["same-start", "leader-gone"]) {
      const status = await waitFor(async () => {
        const current = await find(supervisor, name);
        return current?.state === "running" ? current : undefined;
      }, `${name} to run anew`);
      expect([sameStart.pgid, leaderGone.pgid]).not.toContain(status.pid);
    }
    await supervisor.stop("same-start");
    await supervisor.remove("leader-gone");

    const unrelated = [...sameStart.members, ...leaderGone.members.slice(1)];
    expect(unrelated.filter(isRunning)).toEqual(unrelated);
    expect(daemon.output()).not.toContain("adopted");
    expect(daemon.output()).toContain(`same-start: pid ${sameStart.pgid} was recorded before a reboot; that process is gone, the pid is left alone`);
  });

  it("on SIGTERM stops every program, exits 0, and the next daemon starts them again", async () => {
    const paths = newHome();
    const daemon = await startDaemon(paths);
    const supervisor = await connect(paths);
    const service = program(paths, "service", "sleep 1000 & wait");
    const { pid } = await supervisor.start(service);
    await waitFor(() => groupMembers(pid!).length === 2, "the shell and its child");
    const members = groupMembers(pid!);

    daemon.child.kill("SIGTERM");
    expect((await daemon.exited).code).toBe(0);
    expect(members.filter(isRunning)).toEqual([]);
    expect(existsSync(paths.supervisorSocket)).toBe(false);
    expect(existsSync(join(paths.run, "supervisor.pid"))).toBe(false);
    expect(daemon.output()).toContain("SIGTERM: stopping every program");

    await startDaemon(paths);
    const again = await waitFor(async () => find(await connect(paths), "service"), "the service");
    expect(again.wanted).toBe(true);
    expect(again.pid).not.toBeNull();
    expect(again.pid).not.toBe(pid);
  });

  it("rotates a program's log by size, keeping the configured number of files, oldest last", async () => {
    const paths = newHome();
    const daemon = await startDaemon(paths);
    const supervisor = await connect(paths);
    const chatty = program(
      paths,
      "chatty",
      `i=0; while [ $i -lt 60 ]; do printf 'chunk %d ' $i; head -c 10000 /dev/zero | tr '\\0' a; echo; i=$((i+1)); sleep 0.05; done; touch done; exec sleep 1000`,
      { logs: { maxBytes: 100_000, keep: 2 } },
    );
    await supervisor.start(chatty);
    await waitFor(() => existsSync(join(chatty.cwd, "done")), "the writer to finish", 30_000);
    const log = chatty.logFile;
    // the rotation check after the last writes
    await waitFor(() => existsSync(`${log}.2`) && statSync(log).size < 100_000, "the log rotated after the last writes", 10_000);

    expect(existsSync(`${log}.1`)).toBe(true);
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    expect(statSync(`${log}.1`).size).toBeGreaterThanOrEqual(100_000);
    expect(statSync(`${log}.2`).size).toBeGreaterThanOrEqual(100_000);
    expect(statSync(log).size).toBeLessThan(100_000);
    const chunks = (file: string) => [...readText(file).matchAll(/chunk (\d+) /g)].map((match) => Number(match[1]));
    expect(Math.max(...chunks(`${log}.2`))).toBeLessThan(Math.min(...chunks(`${log}.1`)));
    expect(Math.max(...chunks(`${log}.1`))).toBeLessThan(Math.min(60, ...chunks(log)));
    expect(daemon.output()).toContain(`rotated ${log}`);
  });

  it("keeps serving whatever a client does: closing before reading, garbage, a 100 MB request, a thousand connections", async () => {
    const paths = newHome();
    // Under systemd the daemon may open 1,024 files; 512 makes a thousand connections more than it can hold here.
    const daemon = await startDaemon(paths, 512);
    const { pid } = await (await connect(paths)).start(program(paths, "service", "exec sleep 1000"));
    const stillServing = async () => {
      expect(await find(await connect(paths), "service")).toMatchObject({ state: "running", pid });
      expect([daemon.child.exitCode, daemon.child.signalCode]).toEqual([null, null]);
    };
    await waitFor(async () => (await find(await connect(paths), "service"))?.state === "running", "the service to run");

    execFileSync("python3", ["-c", closeWithoutReading, paths.supervisorSocket], { timeout: 10_000 });
    await stillServing();

    const garbage = await rawConnection(paths);
    garbage.socket.write('not json\n\u0000\u00ff{\n[]\n{"id":7,"method":"nope"}\n');
    const answers = await waitFor(() => {
      const lines = garbage.received().split("\n").filter(Boolean);
      return lines.length === 4 ? lines.map((line) => JSON.parse(line) as unknown) : undefined;
    }, "four answers");
    expect(answers).toEqual([
      { id: -1, error: expect.stringContaining("is not valid JSON") },
      { id: -1, error: expect.stringContaining("is not valid JSON") },
      { id: -1, error: "request without a numeric id" },
      { id: 7, error: 'unknown method "nope"' },
    ]);
    await stillServing();

    const huge = await rawConnection(paths);
    const megabyte = Buffer.alloc(1024 * 1024, "a");
    let sent = 0;
    while (sent < 100 * megabyte.length && !huge.socket.destroyed) {
      sent += megabyte.length;
      if (!huge.socket.write(megabyte)) await Promise.race([new Promise((resolve) => huge.socket.once("drain", resolve)), huge.closed]);
    }
    await waitFor(() => huge.received().endsWith("\n"), "the refusal of the 100 MB request");
    expect(huge.received()).toBe('{"id":-1,"error":"request larger than 1048576 bytes"}\n');
    await huge.closed;
    expect(sent).toBeLessThan(100 * megabyte.length);
    await stillServing();

    const flood = await Promise.all(Array.from({ length: 1_000 }, () => rawConnection(paths)));
    await stillServing(); // while all of them are open
    for (const { socket } of flood) socket.destroy();
    expect(daemon.output()).toContain("more than 64 connections: closing the longest idle one");
    await stillServing();
  });

  // how quick is measured by bench/supervisor.ts against supervisord; a test must not fail on a busy machine's timing
  it("stays small with 20 idle programs, and answers status for all of them", async () => {
    const paths = newHome();
    const daemon = await startDaemon(paths);
    const supervisor = await connect(paths);
    for (let index = 0; index < 20; index++) await supervisor.start(program(paths, `idle-${index}`, "exec sleep 1000"));
    await waitFor(async () => (await supervisor.status()).filter((status) => status.state === "running").length === 20, "20 programs running");

    const calls = 100;
    const began = performance.now();
    let answers: Awaited<ReturnType<typeof supervisor.status>> = [];
    for (let index = 0; index < calls; index++) answers = await supervisor.status();
    expect(answers.filter((status) => status.state === "running").map((status) => status.name).sort()).toEqual(
      Array.from({ length: 20 }, (_, index) => `idle-${index}`).sort(),
    );
    const perCallMs = (performance.now() - began) / calls;
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.child.pid}/status`, "utf8"))![1]);
    console.info(`builtin daemon with 20 idle programs: VmRSS ${(rssKb / 1024).toFixed(1)} MB, status call ${perCallMs.toFixed(2)} ms`);
    expect(rssKb).toBeLessThan(150 * 1024);
  });
});
