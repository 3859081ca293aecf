import { connect, type Socket } from "node:net";
import { SargeError, SupervisorNotRunningError } from "../../util/errors.js";
import { sargeVersion } from "../../util/version.js";
import type { HomePaths } from "../../home/paths.js";
import type { ProgramSpec, ProgramStatus, Supervisor } from "../supervisor.js";
import { readLines } from "./line-reader.js";
import type { Method, Requests, Response } from "./protocol.js";

/** The status of every program fits many times over; a longer answer is a broken daemon. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  /** The connection the request went out on: only its closing fails the request. */
  socket: Socket;
}

/**
 * A Supervisor backed by the builtin daemon's socket. One connection,
 * requests pipelined by id. When the daemon dies and is started again (it
 * takes back every program), the next request reconnects: a command running
 * across a supervisor restart, like a deploy, goes on. Requests that were
 * waiting when the connection closed fail.
 */
export class BuiltinClient implements Supervisor {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private socket!: Socket;
  private closed = false;
  private reconnecting: Promise<void> | null = null;
  /** Known once daemon() answered. */
  private daemonVersion: string | null | undefined;

  constructor(
    socket: Socket,
    private readonly reconnect?: () => Promise<Socket>,
  ) {
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    readLines(socket, MAX_ANSWER_BYTES, { line: (line) => this.answer(line), overflow: () => socket.destroy() });
    socket.on("error", () => undefined); // 'close' follows and rejects what is pending
    socket.on("close", () => {
      for (const [id, pending] of this.pending) {
        if (pending.socket !== socket) continue;
        this.pending.delete(id);
        pending.reject(new SargeError("the supervisor closed the connection before answering"));
      }
    });
    // An idle connection must not keep a CLI command alive.
    socket.unref();
  }

  start(spec: ProgramSpec): Promise<ProgramStatus> {
    return this.call("start", { spec });
  }

  startExisting(name: string): Promise<ProgramStatus> {
    return this.call("startExisting", { name });
  }

  stop(name: string): Promise<ProgramStatus> {
    return this.call("stop", { name });
  }

  async remove(name: string): Promise<void> {
    await this.call("remove", { name });
  }

  status(): Promise<ProgramStatus[]> {
    return this.call("status", {});
  }

  /** The daemon's pid; proves it answers. */
  async ping(): Promise<number> {
    return (await this.daemon()).pid;
  }

  /** The daemon's pid and sarge version (null: a daemon older than versions in the protocol). */
  async daemon(): Promise<{ pid: number; version: string | null }> {
    const { pid, version } = await this.call("ping", {});
    this.daemonVersion = version ?? null;
    return { pid, version: this.daemonVersion };
  }

  /** Asks the daemon to leave its programs to a new daemon (see runDaemon); its pid. */
  async handover(): Promise<number> {
    return (await this.call("handover", {})).pid;
  }

  /** Immediate: every answer awaited has arrived, or is abandoned (a hung daemon must not hang the caller). */
  async close(): Promise<void> {
    this.closed = true;
    this.socket.destroy();
  }

  private async call<M extends Method>(method: M, params: Requests[M]["params"]): Promise<Requests[M]["result"]> {
    if (this.socket.destroyed || this.socket.writableEnded) {
      if (this.closed || !this.reconnect) throw new SargeError("the connection to the supervisor is closed");
      const reconnect = this.reconnect;
      this.reconnecting ??= reconnect()
        .then((socket) => this.attach(socket))
        .finally(() => (this.reconnecting = null));
      await this.reconnecting;
    }
    const id = this.nextId++;
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, socket });
      socket.ref();
      socket.write(JSON.stringify({ id, method, params }) + "\n");
    });
  }

  private answer(line: string): void {
    const response = JSON.parse(line) as Response;
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (![...this.pending.values()].some((other) => other.socket === pending.socket)) pending.socket.unref();
    if ("error" in response) pending.reject(failureOf(response.error, this.daemonVersion));
    else pending.resolve(response.result);
  }
}

/**
 * The daemon's words, except for a request it does not know: that is a daemon
 * of another sarge, which `sarge upgrade` or a restart brings to this one.
 */
function failureOf(error: string, daemonVersion: string | null | undefined): SargeError {
  if (!error.startsWith("unknown method")) return new SargeError(error);
  return new VersionMismatchError(`${versionMismatch(daemonVersion ?? null)}: it cannot do this (${error})`);
}

/** The daemon does not know a request: it runs another sarge. */
export class VersionMismatchError extends SargeError {}

/** "supervisor runs sarge X, this is sarge Y; run `sarge upgrade` (or restart the supervisor)" */
export function versionMismatch(daemonVersion: string | null): string {
  const daemon = daemonVersion === null ? "an older sarge" : `sarge ${daemonVersion}`;
  return `the supervisor runs ${daemon}, this is sarge ${sargeVersion()}; run \`sarge upgrade\` (or restart the supervisor)`;
}

/** Connects to the home's builtin supervisor; SupervisorNotRunningError when nothing listens there. */
export async function connectBuiltin(paths: HomePaths): Promise<BuiltinClient> {
  return new BuiltinClient(await connectSocket(paths), () => connectSocket(paths));
}

async function connectSocket(paths: HomePaths): Promise<Socket> {
  const socket = connect(paths.supervisorSocket);
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED") throw new SupervisorNotRunningError(paths.root);
    throw new SargeError(`cannot reach the supervisor at ${paths.supervisorSocket}: ${code ?? (error as Error).message}`, { cause: error });
  }
  return socket;
}
