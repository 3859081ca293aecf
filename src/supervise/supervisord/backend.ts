/**
 * The `Supervisor` interface on top of a real supervisord (one per home),
 * controlled over its XML-RPC unix socket.
 *
 * - A program is one include file `etc/supervisor/programs/<name>.conf` (one
 *   group of one process, named like the program); `reloadConfig` +
 *   `addProcessGroup`/`removeProcessGroup` load it, no supervisorctl involved.
 * - `autostart=` in that file records whether sarge wants the program: what
 *   supervisord starts when it starts itself, and what sarge.restarter (the
 *   event listener in supervisord.conf) starts again after FATAL.
 * - Restart counts come from sarge.restarter (var/run/supervisord-restarts.json);
 *   the last exit's cause from supervisord's own log (its XML-RPC exitstatus is
 *   0 after a quick exit and -1 for any signal).
 */
import { readFile, rm } from "node:fs/promises";

import { SargeError, SupervisorNotRunningError } from "../../util/errors.js";
import type { HomePaths } from "../../home/paths.js";
import type { ProgramSpec, ProgramState, ProgramStatus, Supervisor } from "../supervisor.js";
import { SupervisordClient, type ProcessInfo, type SupervisordStateName } from "./client.js";
import {
  DEFAULT_STOP_TIMEOUT_MS,
  findSupervisord,
  PROGRAM_NAME,
  programConfPath,
  programRecordPath,
  readAutostart,
  renderProgramConf,
  restartCountsPath,
  setAutostart,
  supervisordPython,
  validateProgramName,
} from "./config.js";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { pollUntil, stopPolls } from "../../util/poll.js";
import { groupMembers, terminateGroup, type StopTarget } from "../../util/process-group.js";
import { waitLaunched } from "./launched.js";
import { runningRecord } from "./record.js";
import { isFault, XmlRpcClient } from "./xmlrpc.js";

export interface SupervisordBackendOptions {
  /** startretries in program files (quick exits retried before FATAL). */
  startRetries?: number;
  /** Interpreter for the program launcher; supervisord's own (its #! line) unless set. */
  python?: string;
}

/** How long a group that outlived its grace period gets to die of SIGKILL. */
const KILL_WAIT_MS = 5_000;

/** States in which supervisord has, or is about to have, a process for the program. */
const ACTIVE: ReadonlySet<SupervisordStateName> = new Set(["STARTING", "RUNNING", "BACKOFF", "EXITED"]);
const MAIN_LOG_TAIL_BYTES = 65_536;

/** `exited: web-abc (exit status 1; not expected)`, `stopped: web-abc (terminated by SIGTERM)`. */
const EXIT_LINE = /\b(?:exited|stopped): (\S+) \((?:exit status (\d+)|terminated by (SIG[A-Z0-9]+))/g;

export function lastExitsFromLog(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(EXIT_LINE)) {
    out.set(m[1]!, m[2] !== undefined ? `exit ${m[2]}` : `signal ${m[3]}`);
  }
  return out;
}

export function mapState(statename: SupervisordStateName, wantedByFile: boolean | null): { state: ProgramState; wanted: boolean } {
  switch (statename) {
    case "STOPPED":
      return { state: "stopped", wanted: false };
    case "STARTING":
      return { state: "starting", wanted: true };
    case "RUNNING":
      return { state: "running", wanted: true };
    case "BACKOFF":
      return { state: "backoff", wanted: true };
    case "STOPPING":
      return { state: "stopping", wanted: false };
    case "EXITED": // autorestart=true: supervisord spawns it again on its next tick
      return { state: "backoff", wanted: true };
    case "FATAL": // given up by supervisord; sarge.restarter starts it again while wanted
    case "UNKNOWN":
      return wantedByFile ? { state: "backoff", wanted: true } : { state: "stopped", wanted: false };
  }
}

export class SupervisordSupervisor implements Supervisor {
  private closed = false;
  private readonly python: string;

  constructor(
    readonly paths: HomePaths,
    readonly client: SupervisordClient,
    private readonly options: SupervisordBackendOptions = {},
  ) {
    this.python = options.python ?? supervisordPython(findSupervisord());
  }

  private check(): void {
    if (this.closed) throw new SargeError("supervisor connection already closed");
  }

  private file(name: string): string {
    return programConfPath(this.paths, name);
  }

  private async info(name: string): Promise<ProcessInfo | null> {
    try {
      return await this.client.getProcessInfo(name);
    } catch (e) {
      if (isFault(e, "BAD_NAME")) return null;
      throw e;
    }
  }

  private async require(name: string): Promise<ProcessInfo> {
    validateProgramName(name);
    const info = await this.info(name);
    if (!info) throw new SargeError(`no program named ${name} in supervisord`);
    return info;
  }

  /** How the program's file says it stops: grace, signal, and whether supervisord signals its group. */
  private async stopSettings(name: string): Promise<{ graceMs: number; signal: NodeJS.Signals; to: StopTarget }> {
    let text = "";
    try {
      text = await readFile(this.file(name), "utf8");
    } catch {
      // no file: defaults
    }
    const secs = /^stopwaitsecs=(\d+)$/m.exec(text);
    const signal = /^stopsignal=([A-Z0-9]+)$/m.exec(text);
    return {
      graceMs: secs ? Number(secs[1]) * 1000 : DEFAULT_STOP_TIMEOUT_MS,
      signal: signal ? (`SIG${signal[1]}` as NodeJS.Signals) : "SIGTERM",
      to: /^stopasgroup=false$/m.test(text) ? "main" : "group",
    };
  }

  private async stopWaitMs(name: string): Promise<number> {
    return (await this.stopSettings(name)).graceMs;
  }

  /** Poll until the program leaves STOPPING (startProcess on STOPPING answers true and never starts it). */
  private async waitNotStopping(name: string): Promise<ProcessInfo> {
    const notStopping = async () => {
      const info = await this.require(name);
      return info.statename !== "STOPPING" && info;
    };
    const info = await pollUntil(notStopping, { timeoutMs: (await this.stopWaitMs(name)) + 30_000, intervalMs: stopPolls });
    if (!info) throw new SargeError(`${name} is still stopping`);
    return info;
  }

  async start(spec: ProgramSpec): Promise<ProgramStatus> {
    this.check();
    const name = spec.name;
    const conf = renderProgramConf(spec, {
      autostart: true,
      python: this.python,
      paths: this.paths,
      ...(this.options.startRetries !== undefined ? { startRetries: this.options.startRetries } : {}),
    });
    let current = await this.info(name);
    if (current?.statename === "STOPPING") current = await this.waitNotStopping(name);
    if (current && ACTIVE.has(current.statename)) {
      throw new SargeError(`program ${name} is already running; stop it before starting it again`);
    }

    const file = this.file(name);
    const previous = await readFile(file, "utf8").catch(() => null);
    writeFileAtomic(file, conf);
    let reload;
    try {
      reload = await this.client.reloadConfig();
    } catch (e) {
      // never leave a file behind that breaks every later reloadConfig
      if (previous === null) await rm(file, { force: true });
      else writeFileAtomic(file, previous);
      throw e;
    }
    // A new registration, as in the builtin: a stopped program of the same name is
    // dropped and added again (fresh restart count and last exit), changed or not.
    if (current && !reload.added.includes(name)) await this.removeGroup(name);
    await this.addGroup(name);
    return this.startLoaded(name);
  }

  private async addGroup(name: string): Promise<void> {
    try {
      await this.client.addProcessGroup(name);
    } catch (e) {
      if (!isFault(e, "ALREADY_ADDED")) throw e;
    }
  }

  private async removeGroup(name: string): Promise<void> {
    try {
      await this.client.removeProcessGroup(name);
    } catch (e) {
      if (isFault(e, "BAD_NAME")) return;
      if (isFault(e, "STILL_RUNNING")) throw new SargeError(`program ${name} is running; stop it first`, { cause: e });
      throw e;
    }
  }

  /** Start a loaded, not running program without waiting for startsecs. */
  private async startLoaded(name: string): Promise<ProgramStatus> {
    try {
      // A new group may already be spawned by autostart: ALREADY_STARTED is success.
      await this.client.startProcess(name, false);
    } catch (e) {
      if (isFault(e, "SPAWN_ERROR", "NO_FILE", "NOT_EXECUTABLE")) {
        const info = await this.info(name);
        throw new SargeError(`could not start ${name}: ${info?.spawnerr || e.faultString}`, { cause: e });
      }
      if (!isFault(e, "ALREADY_STARTED")) throw e;
    }
    let info = await this.require(name);
    // Return once the launcher is done (own session, stdin, environment) and the program itself runs.
    if (info.pid > 0 && (await waitLaunched(info.pid))) info = await this.require(name);
    return this.statusOf(info);
  }

  async startExisting(name: string): Promise<ProgramStatus> {
    this.check();
    let info = await this.require(name);
    if (info.statename === "STOPPING") info = await this.waitNotStopping(name);
    await setAutostart(this.file(name), true);
    if (ACTIVE.has(info.statename)) return this.statusOf(info);
    return this.startLoaded(name);
  }

  async stop(name: string): Promise<ProgramStatus> {
    this.check();
    let info = await this.require(name);
    // Not wanted any more: supervisord will not autostart it, sarge.restarter will not revive it.
    await setAutostart(this.file(name), false);
    const { graceMs, signal, to } = await this.stopSettings(name);
    const began = Date.now();
    const groups = new Set<number>();
    const recorded = await runningRecord(this.paths, name);
    if (recorded) groups.add(recorded.pid);
    // Left running by a killed supervisord, and this one has no launcher standing in for it: only we send it the stop signal.
    const orphan = recorded && info.pid === 0 ? recorded : null;
    let exitedSince: number | null = null;
    let first = true;
    const settled = async (): Promise<ProcessInfo | undefined> => {
      if (!first) info = await this.require(name);
      if (info.pid) groups.add(info.pid); // the launcher makes pgid = pid
      const s = info.statename;
      // A process again after our stopProcess: either supervisord respawned an
      // EXITED one (stop it too) or a concurrent startExisting won (leave it).
      if (!first && (s === "STARTING" || s === "RUNNING") && (await readAutostart(this.file(name))) === true) return info;
      first = false;
      if (s === "STARTING" || s === "RUNNING" || s === "BACKOFF") {
        try {
          await this.client.stopProcess(name, true, graceMs + 30_000);
        } catch (e) {
          if (!isFault(e, "NOT_RUNNING")) throw e;
        }
        return undefined;
      }
      if (s === "STOPPING") return undefined;
      // autorestart respawns an EXITED one on supervisord's next tick; then it is stopped above
      if (s === "EXITED" && Date.now() - (exitedSince ??= Date.now()) < 2_000) return undefined;
      return info; // STOPPED, FATAL, UNKNOWN, or EXITED for good (supervisord shutting down)
    };
    if (!(await pollUntil(settled, { timeoutMs: graceMs + 30_000, intervalMs: stopPolls }))) {
      throw new SargeError(`${name} did not stop within ${Math.round((graceMs + 30_000) / 1000)} s`);
    }
    // supervisord reports STOPPED once the main process is reaped; a member that ignored the stop signal
    // may outlive it, and with stopasgroup=false the rest of the group has not had the signal yet
    for (const pgid of groups) {
      const owed = pgid === orphan?.pid ? orphan.stopSignal : to === "main" ? signal : null;
      await terminateGroup(pgid, owed, Math.max(0, began + graceMs - Date.now()), KILL_WAIT_MS, pgid === orphan?.pid ? orphan.stopTo : to);
      const left = groupMembers(pgid);
      if (left.length > 0) throw new SargeError(`processes of ${name} survived SIGKILL: ${left.join(", ")}`);
    }
    return this.statusOf(info);
  }

  async remove(name: string): Promise<void> {
    this.check();
    validateProgramName(name);
    const info = await this.info(name);
    if (info && (info.statename !== "STOPPED" || (await runningRecord(this.paths, name)))) await this.stop(name);
    await rm(this.file(name), { force: true });
    if (info) await this.removeGroup(name);
    await rm(programRecordPath(this.paths, name), { force: true });
  }

  async status(): Promise<ProgramStatus[]> {
    this.check();
    const infos = (await this.client.getAllProcessInfo()).filter((i) => i.group === i.name && PROGRAM_NAME.test(i.name));
    return this.statuses(infos);
  }

  private async statusOf(info: ProcessInfo): Promise<ProgramStatus> {
    const [status] = await this.statuses([info]);
    return status!;
  }

  private async statuses(infos: ProcessInfo[]): Promise<ProgramStatus[]> {
    const [counts, exits] = await Promise.all([
      this.restartCounts(),
      // only read supervisord's log when some program has exited at least once
      infos.some((i) => i.stop > 0) ? this.lastExits() : Promise.resolve(new Map<string, string>()),
    ]);
    const result = await Promise.all(
      infos.map(async (info): Promise<ProgramStatus> => {
        const wantedByFile =
          info.statename === "FATAL" || info.statename === "UNKNOWN" ? await readAutostart(this.file(info.name)) : null;
        const { state, wanted } = mapState(info.statename, wantedByFile);
        // an adopted program: supervisord's process is the launcher standing in for it
        const recorded = info.pid > 0 ? await runningRecord(this.paths, info.name) : null;
        const pid = recorded?.pid ?? (info.pid > 0 ? info.pid : null);
        let lastExit = exits.get(info.name) ?? null;
        if (lastExit === null && info.stop > 0 && info.exitstatus > 0) lastExit = `exit ${info.exitstatus}`;
        return {
          name: info.name,
          state,
          wanted,
          pid,
          startedAt: pid !== null && info.start > 0 ? new Date((recorded?.startedAt ?? info.start) * 1000).toISOString() : null,
          restarts: counts[info.name] ?? 0,
          lastExit: info.stop > 0 ? lastExit : null,
          logFile: info.stdout_logfile,
        };
      }),
    );
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async restartCounts(): Promise<Record<string, number>> {
    try {
      const data: unknown = JSON.parse(await readFile(restartCountsPath(this.paths), "utf8"));
      if (data && typeof data === "object" && !Array.isArray(data)) {
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(data)) if (typeof v === "number") out[k] = v;
        return out;
      }
    } catch {
      // no restarter output yet
    }
    return {};
  }

  private async lastExits(): Promise<Map<string, string>> {
    try {
      return lastExitsFromLog(await this.client.readLog(-MAIN_LOG_TAIL_BYTES, 0));
    } catch (e) {
      if (isFault(e, "NO_FILE")) return new Map();
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function clientFor(paths: HomePaths): SupervisordClient {
  return new SupervisordClient(new XmlRpcClient({ socketPath: paths.supervisorSocket, home: paths.root }));
}

/**
 * Connect to the home's supervisord (bin/supervisord). Throws
 * SupervisorNotRunningError when its socket is missing or refuses.
 */
export async function connectSupervisord(paths: HomePaths, options: SupervisordBackendOptions = {}): Promise<Supervisor> {
  return connectSupervisordBackend(paths, options);
}

/** Like connectSupervisord, typed as the concrete class (tests, benchmarks). */
export async function connectSupervisordBackend(
  paths: HomePaths,
  options: SupervisordBackendOptions = {},
): Promise<SupervisordSupervisor> {
  const client = clientFor(paths);
  const state = await client.getState();
  if (state.statename !== "RUNNING") {
    throw new SargeError(`supervisord is ${state.statename.toLowerCase()}, not running`, {
      detail: `start it again with ${paths.root}/bin/supervisord`,
    });
  }
  return new SupervisordSupervisor(paths, client, options);
}

/**
 * Names of the programs supervisord runs or keeps restarting (any state but
 * stopped), for refusing a backend switch while programs run. Empty when this
 * home's supervisord is not running.
 */
export async function runningPrograms(paths: HomePaths): Promise<string[]> {
  let supervisor: SupervisordSupervisor;
  try {
    supervisor = await connectSupervisordBackend(paths);
  } catch (e) {
    if (e instanceof SupervisorNotRunningError) return [];
    throw e;
  }
  try {
    return (await supervisor.status()).filter((s) => s.state !== "stopped").map((s) => s.name);
  } finally {
    await supervisor.close();
  }
}

/**
 * Ask the home's supervisord to stop its programs and exit; resolves once its
 * socket no longer answers (or at once when it was not running).
 */
export async function shutdownSupervisord(paths: HomePaths, timeoutMs = 60_000): Promise<void> {
  const client = clientFor(paths);
  try {
    await client.shutdown();
  } catch (e) {
    if (e instanceof SupervisorNotRunningError || isFault(e, "SHUTDOWN_STATE")) return;
    throw e;
  }
  const gone = () =>
    client.getState().then(
      () => false,
      // SHUTDOWN_STATE faults and connection resets while it closes its socket
      (e: unknown) => e instanceof SupervisorNotRunningError,
    );
  if (!(await pollUntil(gone, { timeoutMs, intervalMs: 50 }))) {
    throw new SargeError(`supervisord did not shut down within ${timeoutMs / 1000} s`);
  }
}
