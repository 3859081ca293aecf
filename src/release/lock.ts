import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { DiskFullError, isDiskFull, SargeError } from "../util/errors.js";
import { dirname } from "node:path";
import { currentUser } from "../util/current-user.js";
import { pollUntil, soonThenEvery } from "../util/poll.js";
import type { HomePaths } from "../home/paths.js";
import { isSameProcessAlive, processStartTime } from "../util/process-alive.js";

export interface LockHolder {
  pid: number;
  startTime: string | null;
  command: string;
  user: string;
  since: string;
  token: string;
}

export interface HomeLock {
  holder: LockHolder;
  release(): void;
}

export interface LockEvents {
  /** Once, when another live process holds the lock and we start waiting. */
  waiting(holder: LockHolder): void;
  /** The recorded holder is dead; its lock is taken over. */
  takeover(holder: LockHolder): void;
}

/**
 * Between looks at a held lock: 5 ms for the first second, as most holders
 * are about to let go (a status look's recovery check, a release writing its
 * record, the deploy ahead in the server's queue), then 100 ms for one that
 * runs on (a whole deploy).
 */
const lockWait = soonThenEvery(200, 100);

/**
 * The home's deploy lock (var/run/deploy.lock). Created atomically with its
 * content (link of a complete temp file), so a reader never sees half a
 * holder. A holder whose process is gone is taken over. With
 * $SARGE_LOCK_TOKEN, the lock a live `sarge hold` took is this command's own:
 * it neither waits for it nor releases it.
 */
export async function acquireHomeLock(
  paths: HomePaths,
  command: string,
  events: LockEvents,
  options: { timeoutMs?: number; pollMs?: number; ignoreToken?: boolean; cancel?: AbortSignal } = {},
): Promise<HomeLock> {
  const token = process.env.SARGE_LOCK_TOKEN;
  if (token && !options.ignoreToken) return heldByToken(paths, token);
  const me: LockHolder = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command,
    user: currentUser(),
    since: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
  };
  let waitingFor: LockHolder | undefined;
  /** Created, or else held by a live process (`waitingFor`): a dead holder's lock is taken over at once. */
  const created = () => {
    if (options.cancel?.aborted) throw new Error("cancelled while waiting for the deploy lock");
    for (;;) {
      if (tryCreate(paths.deployLock, me)) return true;
      const holder = readHolder(paths.deployLock);
      if (holder === null) continue; // released between our attempt and the read
      if (isSameProcessAlive(holder.pid, holder.startTime)) {
        if (!waitingFor) events.waiting(holder);
        waitingFor = holder;
        return false;
      }
      if (takeOver(paths.deployLock, holder)) events.takeover(holder);
    }
  };
  if (!(await pollUntil(created, { timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY, intervalMs: options.pollMs ?? lockWait }))) {
    const { pid, user, command: what, since } = waitingFor!;
    throw new SargeError(`the home is locked by pid ${pid} (${user}: ${what}) since ${since}`);
  }
  return { holder: me, release: () => releaseIfMine(paths.deployLock, me.token) };
}

/** The lock a live holder took for us (`sarge hold`): ours while it runs; releasing it is the holder's business. */
function heldByToken(paths: HomePaths, token: string): HomeLock {
  const holder = readHolder(paths.deployLock);
  if (holder?.token === token && isSameProcessAlive(holder.pid, holder.startTime)) return { holder, release: () => undefined };
  const now = holder === null ? "nobody holds it" : isSameProcessAlive(holder.pid, holder.startTime) ? `it is held by ${describeHolder(holder)}` : "its holder is gone";
  throw new TokenNotHoldingError(now);
}

export class TokenNotHoldingError extends SargeError {
  constructor(now: string) {
    super(`SARGE_LOCK_TOKEN does not hold the deploy lock: ${now}`, {
      detail: "The `sarge hold` that took it has ended (its session closed). Take the lock again, or run without SARGE_LOCK_TOKEN.",
    });
  }
}

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} (${holder.user}: ${holder.command}, since ${holder.since})`;
}

export function readHolder(lockPath: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(lockPath, "utf8")) as LockHolder;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SargeError(`${lockPath} is unreadable: ${(error as Error).message}`, {
      detail: "If no sarge command is running, remove the file.",
    });
  }
}

function tryCreate(lockPath: string, me: LockHolder): boolean {
  const temp = `${lockPath}.${me.token}`;
  try {
    writeFileSync(temp, JSON.stringify(me) + "\n", { mode: 0o600, flag: "wx" });
  } catch (error) {
    rmSync(temp, { force: true });
    if (isDiskFull(error)) throw new DiskFullError(dirname(lockPath), "cannot take the deploy lock", "nothing was changed", error);
    throw error;
  }
  try {
    linkSync(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/** Move the dead holder's file aside; only one contender's rename succeeds. */
function takeOver(lockPath: string, dead: LockHolder): boolean {
  const aside = `${lockPath}.stale-${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const moved = readHolder(aside);
  if (moved?.token !== dead.token) {
    // another contender took over first and holds the lock now: put its file back
    try {
      linkSync(aside, lockPath);
    } catch (error) {
      // a third contender created the lock meanwhile; the holder we moved aside keeps running without its file
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}

function releaseIfMine(lockPath: string, token: string): void {
  if (readHolder(lockPath)?.token === token) unlinkSync(lockPath);
}
