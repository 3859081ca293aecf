import { connect } from "node:net";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";

export interface SocketRequestOptions {
  /** Keep retrying a connection that is refused or whose socket file is missing, for this long. */
  retryMs?: number;
  /** Give up on one exchange (connected, waiting for the reply) after this long. */
  replyTimeoutMs?: number;
}

/** Errors that mean "nobody is accepting on this socket yet": safe to retry, the command was not sent. */
const NOT_LISTENING = new Set(["ECONNREFUSED", "ENOENT", "EAGAIN"]);

const RETRY_PAUSE_MS = 10;

class NotListening extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function exchangeOnce(socketPath: string, command: string, replyTimeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let connected = false;
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolvePromise(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply within ${replyTimeoutMs} ms`)),
      replyTimeoutMs,
    );
    socket.on("connect", () => {
      connected = true;
      // HAProxy answers, then closes once the client has half-closed.
      socket.end(`${command}\n`);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => finish(null));
    socket.on("close", () => finish(null));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected && error.code !== undefined && NOT_LISTENING.has(error.code)) finish(new NotListening(error.code));
      else finish(error);
    });
  });
}

/**
 * Send one command line to a HAProxy CLI socket and return its whole reply.
 * A socket that is not accepting yet (just started or reloading) is retried
 * for `retryMs`; a command that was sent is never repeated.
 */
export async function socketCommand(
  socketPath: string,
  command: string,
  what: string,
  options: SocketRequestOptions = {},
): Promise<string> {
  const retryMs = options.retryMs ?? 2_000;
  const replyTimeoutMs = options.replyTimeoutMs ?? 2_000;
  let notListening: NotListening | undefined;
  // only a refused connection is tried again: it sent nothing
  const reply = await pollUntil(
    () =>
      exchangeOnce(socketPath, command, replyTimeoutMs).catch((error: unknown) => {
        if (!(error instanceof NotListening)) throw commandFailed(socketPath, command, what, error);
        notListening = error;
        return undefined;
      }),
    { timeoutMs: retryMs, intervalMs: RETRY_PAUSE_MS },
  );
  if (reply === undefined) throw commandFailed(socketPath, command, what, notListening);
  return reply;
}

function commandFailed(socketPath: string, command: string, what: string, error: unknown): SargeError {
  const reason =
    error instanceof NotListening
      ? error.code === "ENOENT"
        ? `${socketPath} does not exist (is HAProxy running?)`
        : `nothing accepts connections on ${socketPath} (is HAProxy running?)`
      : `${(error as Error).message} on ${socketPath}`;
  return new SargeError(`HAProxy ${what} did not answer "${command}": ${reason}`, { cause: error });
}

/** One command on the stats socket (level admin): `show stat`, `set server …`. */
export function adminCommand(
  paths: Pick<HomePaths, "haproxyAdminSocket">,
  command: string,
  options?: SocketRequestOptions,
): Promise<string> {
  return socketCommand(paths.haproxyAdminSocket, command, "admin socket", options);
}

/** One command on the master CLI socket: `reload`, `show proc`. */
export function masterCommand(
  paths: Pick<HomePaths, "haproxyMasterSocket">,
  command: string,
  options?: SocketRequestOptions,
): Promise<string> {
  return socketCommand(paths.haproxyMasterSocket, command, "master socket", options);
}
