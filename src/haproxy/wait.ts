import type { HostPort } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import { tcpProbe } from "../util/tcp-probe.js";
import { adminInfo } from "./runtime.js";

export interface WaitOptions {
  /** Overall bound. Default 10 s. */
  timeoutMs?: number;
  /** Stable addresses that must accept TCP connections. */
  binds?: readonly HostPort[];
  /** Only accept an answer from this worker (after a reload the old worker answers for a while). */
  workerPid?: number;
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
  const left = () => ({ timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 5 });
  let last = "its admin socket did not answer";
  const answeringWorker = async () => {
    try {
      const info = await adminInfo(paths, { retryMs: 0, replyTimeoutMs: 1_000 });
      if (options.workerPid === undefined || info.pid === options.workerPid) return info.pid;
      last = `its admin socket is still answered by worker ${info.pid}, not the new worker ${options.workerPid}`;
    } catch (error) {
      last = (error as Error).message;
    }
    return undefined;
  };
  const workerPid = await pollUntil(answeringWorker, left());
  if (workerPid === undefined) throw new SargeError(`HAProxy is not up after ${timeoutMs} ms: ${last}`);
  for (const bind of options.binds ?? []) {
    if (!(await pollUntil(async () => (await tcpProbe(bind.port, bind.host)) === null, left()))) {
      throw new SargeError(`HAProxy is not accepting connections on ${bind.host}:${bind.port} after ${timeoutMs} ms`);
    }
  }
  return { workerPid };
}
