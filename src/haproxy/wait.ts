import { connect } from "node:net";
import type { HostPort } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { adminInfo } from "./runtime.js";

export interface WaitOptions {
  /** Overall bound. Default 10 s. */
  timeoutMs?: number;
  /** Stable addresses that must accept TCP connections. */
  binds?: readonly HostPort[];
  /** Only accept an answer from this worker (after a reload the old worker answers for a while). */
  workerPid?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function accepts(bind: HostPort): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: bind.host, port: bind.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Wait until HAProxy is serving: its admin socket answers (from `workerPid`
 * when given) and every address in `binds` accepts connections. Resolves
 * with the answering worker's pid.
 */
export async function waitForHaproxy(
  paths: Pick<HomePaths, "haproxyAdminSocket">,
  options: WaitOptions = {},
): Promise<{ workerPid: number }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last = "its admin socket did not answer";
  let workerPid: number | null = null;
  while (workerPid === null) {
    try {
      const info = await adminInfo(paths, { retryMs: 0, replyTimeoutMs: 1_000 });
      if (options.workerPid === undefined || info.pid === options.workerPid) workerPid = info.pid;
      else last = `its admin socket is still answered by worker ${info.pid}, not the new worker ${options.workerPid}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (workerPid === null) {
      if (Date.now() >= deadline) throw new SargeError(`HAProxy is not up after ${timeoutMs} ms: ${last}`);
      await sleep(20);
    }
  }
  for (const bind of options.binds ?? []) {
    while (!(await accepts(bind))) {
      if (Date.now() >= deadline) {
        throw new SargeError(`HAProxy is not accepting connections on ${bind.host}:${bind.port} after ${timeoutMs} ms`);
      }
      await sleep(20);
    }
  }
  return { workerPid };
}
