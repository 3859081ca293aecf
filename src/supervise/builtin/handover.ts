import { SargeError, SupervisorNotRunningError } from "../../util/errors.js";
import { pollUntil } from "../../util/poll.js";
import type { HomePaths } from "../../home/paths.js";
import { connectBuiltin, VersionMismatchError } from "./client.js";

export type HandoverOutcome =
  | { kind: "not running" }
  | { kind: "current"; pid: number }
  | { kind: "restarted"; from: number; to: number }
  /** A daemon of a sarge without handover: a restart of the supervisor finishes the upgrade. */
  | { kind: "restart needed"; pid: number; version: string | null };

const SUCCESSOR_TIMEOUT_MS = 30_000;

/**
 * Brings the home's running builtin daemon to sarge `version`: it hands its
 * programs over to the daemon bin/supervisord starts (the home's current
 * sarge), which adopts them; no program stops.
 */
export async function restartDaemonOnto(paths: HomePaths, version: string): Promise<HandoverOutcome> {
  const before = await daemonOrNull(paths);
  if (before === null) return { kind: "not running" };
  if (before.version === version) return { kind: "current", pid: before.pid };
  const client = await connectBuiltin(paths);
  try {
    await client.handover();
  } catch (error) {
    if (error instanceof VersionMismatchError) return { kind: "restart needed", pid: before.pid, version: before.version };
    // the daemon may close its connections before the answer gets out: what answers next says
    if (!goingAway(error)) throw error;
  } finally {
    await client.close();
  }
  const after = await pollUntil(
    async () => {
      const daemon = await daemonOrNull(paths);
      return daemon !== null && daemon.pid !== before.pid && daemon.version === version ? daemon : false;
    },
    { timeoutMs: SUCCESSOR_TIMEOUT_MS, intervalMs: 100 },
  );
  if (!after) {
    throw new SargeError(`the supervisor (pid ${before.pid}) handed over, but no supervisor of sarge ${version} answered within ${SUCCESSOR_TIMEOUT_MS / 1000} s`, {
      detail: `Every app keeps running. Start the supervisor with ${paths.bin}/supervisord: it adopts them.`,
    });
  }
  return { kind: "restarted", from: before.pid, to: after.pid };
}

async function daemonOrNull(paths: HomePaths): Promise<{ pid: number; version: string | null } | null> {
  let client;
  try {
    client = await connectBuiltin(paths);
    return await client.daemon();
  } catch (error) {
    if (error instanceof SupervisorNotRunningError || goingAway(error)) return null;
    throw error;
  } finally {
    await client?.close();
  }
}

/**
 * What a daemon closing its socket answers: a connection closed before the
 * answer, or one reset at connect (it was in the listening socket's backlog
 * when the daemon closed it).
 */
export function goingAway(error: unknown): boolean {
  if (!(error instanceof SargeError)) return false;
  return error.message.includes("closed the connection") || (error.cause as NodeJS.ErrnoException | undefined)?.code === "ECONNRESET";
}
