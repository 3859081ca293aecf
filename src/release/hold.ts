import type { HomePaths } from "../home/paths.js";
import { pushIdFromEnv } from "./history.js";
import { acquireHomeLock, describeHolder } from "./lock.js";

export interface HoldOptions {
  /** How long to wait for a live holder; unlimited when undefined. */
  waitMs?: number;
  /** Called once the lock is held, with the token that makes it another command's own ($SARGE_LOCK_TOKEN). */
  held(token: string): void;
  /** Resolves when the hold ends (its session closed, or it was told to stop) and no request it runs is under way. */
  until: Promise<void>;
  /** A line for the operator (waiting, a takeover). */
  say(line: string): void;
}

/**
 * `sarge hold`: take the home's deploy lock and keep it until `until`, so a
 * multi-server push can hold every server's lock across its stage and
 * activate commands, which run with the token (or which it runs itself:
 * held-requests.ts). Dying without releasing it is
 * harmless: a dead holder's lock is taken over.
 */
export async function holdHomeLock(paths: HomePaths, options: HoldOptions): Promise<void> {
  const push = pushIdFromEnv();
  const lock = await acquireHomeLock(
    paths,
    push ? `sarge hold (push ${push})` : "sarge hold",
    {
      waiting: (holder) => options.say(`waiting for the deploy lock held by ${describeHolder(holder)}`),
      takeover: (holder) => options.say(`took over the deploy lock of ${describeHolder(holder)}, which is no longer running`),
    },
    // on timeout: "the home is locked by pid … (user: command) since …"; a hold takes the lock for itself, whatever SARGE_LOCK_TOKEN says
    { timeoutMs: options.waitMs, ignoreToken: true },
  );
  try {
    options.held(lock.holder.token);
    await options.until;
  } finally {
    lock.release();
  }
}
