import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { SargeError, SupervisorNotRunningError } from "../../util/errors.js";
import { sargeVersion } from "../../util/version.js";
import type { HomePaths } from "../../home/paths.js";
import { connectBuiltin } from "./client.js";
import { Connections } from "./connections.js";
import { acquirePidFile } from "./pid-file.js";
import { parseName, parseRequest, parseSpec, requestId, type Request, type Response } from "./protocol.js";
import { loadRecords, saveRecords } from "./store.js";
import { ProgramTable } from "./table.js";

/** How often program logs are checked for rotation. */
const ROTATE_CHECK_MS = 1_000;

/** Files of the builtin backend under var/run, next to the socket. */
export function builtinFiles(paths: HomePaths): { pidFile: string; programs: string } {
  return { pidFile: join(paths.run, "supervisor.pid"), programs: join(paths.run, "supervisor-programs.json") };
}

/** Exit code of a daemon that handed over under systemd, whose unit (Restart=always, KillMode=process) starts the new one. */
export const HANDED_OVER_EXIT = 75;

/**
 * The builtin supervisor for one home, in the foreground, until SIGTERM or
 * SIGINT: then it stops every program (still recorded as wanted, so the next
 * daemon starts them again) and resolves to exit code 0. Until a handover
 * (sarge upgrade): then it leaves every program running for the daemon of
 * the home's current sarge, which adopts them as after a crash. Refuses to
 * run next to a live daemon.
 */
export async function runDaemon(paths: HomePaths): Promise<number> {
  // Nobody reading our output (a closed terminal or pipe) must not crash the daemon.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  const files = builtinFiles(paths);
  mkdirSync(paths.run, { recursive: true });
  mkdirSync(paths.log, { recursive: true });
  await refuseIfAnswering(paths);
  const pidFile = acquirePidFile(files.pidFile);
  if (!pidFile.acquired) {
    throw new SargeError(`the supervisor is already running for ${paths.root} (pid ${pidFile.holder})`, {
      detail: `its socket ${paths.supervisorSocket} does not answer; if that process is hung, kill it and start again`,
    });
  }
  try {
    const table = new ProgramTable(loadRecords(files.programs, warn), { save: (records) => saveRecords(files.programs, records), log, warn });
    let handOver!: () => void;
    const handover = new Promise<"handover">((resolve) => (handOver = () => resolve("handover")));
    const connections = new Connections((line) => answer(line, table, handOver), warn);
    const server = createServer((socket) => connections.accept(socket));
    await listenPrivately(server, paths.supervisorSocket);
    // e.g. EMFILE when accepting: that client is not served, the daemon goes on.
    server.on("error", (error) => warn(`accepting a connection failed: ${error.message}`));
    log(`supervisor for ${paths.root} listening on ${paths.supervisorSocket} (pid ${process.pid})`);
    const recovered = table.recover().catch((error: unknown) => warn(`recovery failed: ${(error as Error).message}`));
    const rotation = setInterval(() => void table.rotateLogs(), ROTATE_CHECK_MS);

    const reason = await Promise.race([shutdownSignal(), handover]);
    clearInterval(rotation);
    server.close(); // no new clients; Node also removes the socket file
    await recovered;
    if (reason === "handover") {
      connections.closeAll();
      pidFile.release();
      return startSuccessor(paths);
    }
    log(`${reason}: stopping every program`);
    await table.shutdown();
    connections.closeAll();
    log("stopped");
    return 0;
  } finally {
    pidFile.release();
  }
}

/**
 * The home's bin/supervisord (it runs the home's current sarge) takes over,
 * on this daemon's output. Under systemd the unit restarts it instead: a
 * process of ours left behind would not be the unit's main process.
 */
function startSuccessor(paths: HomePaths): number {
  if (process.env.INVOCATION_ID) {
    log(`handing over: exiting with ${HANDED_OVER_EXIT} for systemd to start ${paths.bin}/supervisord; every program keeps running`);
    return HANDED_OVER_EXIT;
  }
  const successor = spawn(join(paths.bin, "supervisord"), [], { detached: true, stdio: ["ignore", "inherit", "inherit"] });
  successor.on("error", (error) => warn(`cannot start ${paths.bin}/supervisord: ${error.message}`));
  successor.unref();
  log(`handed over to ${paths.bin}/supervisord (pid ${successor.pid ?? "?"}); every program keeps running`);
  return 0;
}

/** The socket answering means a daemon is up: refuse before touching anything. */
async function refuseIfAnswering(paths: HomePaths): Promise<void> {
  let client;
  try {
    client = await connectBuiltin(paths);
  } catch (error) {
    if (error instanceof SupervisorNotRunningError) return;
    throw error;
  }
  try {
    const pid = await Promise.race([client.ping(), new Promise<null>((resolve) => setTimeout(resolve, 2_000, null).unref())]);
    if (pid !== null) throw new SargeError(`the supervisor is already running for ${paths.root} (pid ${pid})`);
  } finally {
    await client.close();
  }
}

/**
 * Binds the socket under umask 077 so it never exists with looser permissions
 * (bind is synchronous within listen()), then sets and checks mode 0600.
 */
async function listenPrivately(server: Server, path: string): Promise<void> {
  try {
    unlinkSync(path); // left by a dead daemon: the pid file says we own this home now
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const listening = new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const umask = process.umask(0o177);
  try {
    // a burst of clients queues instead of failing: a unix socket refuses a connect at once (EAGAIN) when its backlog is full; the kernel caps it at net.core.somaxconn
    server.listen({ path, backlog: 4096 });
  } finally {
    process.umask(umask);
  }
  await listening;
  chmodSync(path, 0o600);
  const mode = statSync(path).mode & 0o777;
  if (mode !== 0o600) throw new SargeError(`socket ${path} has mode ${mode.toString(8)} instead of 600`);
}

async function answer(line: string, table: ProgramTable, handOver: () => void): Promise<Response> {
  let id = -1;
  try {
    const value: unknown = JSON.parse(line);
    id = requestId(value);
    const request = parseRequest(value);
    // after this answer is written (Connections writes it as soon as this resolves)
    if (request.method === "handover") setImmediate(handOver);
    return { id, result: await dispatch(request, table) };
  } catch (error) {
    if (!(error instanceof SargeError)) warn(`request failed: ${(error as Error).stack ?? String(error)}`);
    return { id, error: (error as Error).message };
  }
}

async function dispatch({ method, params }: Request, table: ProgramTable): Promise<unknown> {
  switch (method) {
    case "ping":
      return { pid: process.pid, version: sargeVersion() };
    case "handover":
      return { pid: process.pid };
    case "start":
      return table.start(parseSpec(params.spec));
    case "startExisting":
      return table.startExisting(parseName(params.name));
    case "stop":
      return table.stop(parseName(params.name));
    case "remove":
      await table.remove(parseName(params.name));
      return null;
    case "status":
      return table.status();
  }
}

function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      // Stay subscribed: a second Ctrl-C must not kill the daemon halfway through stopping programs.
      process.on("SIGTERM", repeated).on("SIGINT", repeated);
      process.off("SIGTERM", handler).off("SIGINT", handler);
      resolve(signal);
    };
    process.on("SIGTERM", handler).on("SIGINT", handler);
  });
}

function repeated(signal: NodeJS.Signals): void {
  warn(`${signal} ignored: already stopping programs`);
}

/** The daemon's own lines, for systemd's journal or a terminal. */
function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function warn(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}
