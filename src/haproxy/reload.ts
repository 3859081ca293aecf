import { performance } from "node:perf_hooks";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import { showProc, type ProcList } from "./runtime.js";
import { masterCommand } from "./socket.js";
import { waitForHaproxy } from "./wait.js";

export interface ReloadResult {
  /** The new worker, confirmed by `show proc` and answering the admin socket. */
  workerPid: number;
  /** Workers that were current before the reload (now finishing their requests, or gone). */
  previousWorkers: number[];
  ms: number;
}

/**
 * Reload HAProxy from etc/haproxy/haproxy.cfg through the master socket, and
 * wait until a new worker is up and answers the admin socket (the old one
 * answers it for a while after the reload). Old workers finish their running
 * requests, for at most hard-stop-after. Only needed when the set of stable
 * ports changes; check new ones with assertBindsFree first.
 */
export async function reloadHaproxy(
  paths: Pick<HomePaths, "haproxyMasterSocket" | "haproxyAdminSocket" | "haproxyCfg">,
  options: { timeoutMs?: number } = {},
): Promise<ReloadResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  const before = await showProc(paths, { retryMs: 2_000 });
  const known = new Set([...before.workers, ...before.oldWorkers]);
  try {
    await masterCommand(paths, "reload", { retryMs: 2_000 });
  } catch (error) {
    // The master re-executes itself and may drop the connection instead of closing it.
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code !== "ECONNRESET" && code !== "EPIPE") throw error;
  }
  let last = "";
  const newWorker = async () => {
    let now: ProcList;
    try {
      // The master socket refuses connections for ~50-110 ms after a reload.
      now = await showProc(paths, { retryMs: Math.max(0, deadline - Date.now()) });
    } catch (error) {
      last = (error as Error).message;
      return undefined;
    }
    if (before.failedReloads !== null && now.failedReloads !== null && now.failedReloads > before.failedReloads) {
      throw new SargeError(`HAProxy could not reload ${paths.haproxyCfg}; the previous workers keep serving`, {
        detail: "HAProxy's log (var/log/haproxy.log) has the reason: usually a stable port in use, or a configuration error.",
      });
    }
    last = `its workers are still ${now.workers.join(", ") || "none"}`;
    return now.workers.find((pid) => !known.has(pid));
  };
  const fresh = await pollUntil(newWorker, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 5 });
  if (fresh === undefined) throw new SargeError(`HAProxy did not start a new worker within ${timeoutMs} ms of the reload: ${last}`);
  await waitForHaproxy(paths, { workerPid: fresh, timeoutMs: Math.max(1, deadline - Date.now()) });
  return { workerPid: fresh, previousWorkers: before.workers, ms: performance.now() - started };
}
