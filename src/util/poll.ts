import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  /** Give up once this long has passed (the check has then run at least once). */
  timeoutMs: number;
  /** Pause between checks; a function of the attempt (0, 1, …) for a backoff. */
  intervalMs: number | ((attempt: number) => number);
}

/**
 * A pollUntil interval for a wait that usually ends soon: every 5 ms for the
 * first `fastPolls` looks, then every `thenMs` for one that runs on.
 */
export function soonThenEvery(fastPolls: number, thenMs: number): (attempt: number) => number {
  return (attempt) => (attempt < fastPolls ? 5 : thenMs);
}

/**
 * How a stop looks whether its program is gone: every 5 ms for the first
 * second, when most are, then every 20 ms, since each look at one that still
 * runs reads /proc or asks supervisord.
 */
export const stopPolls = soonThenEvery(200, 20);

/**
 * Run `check` until it returns something other than undefined or false, and
 * resolve with that; resolve with undefined once `timeoutMs` passed without.
 * The caller words its own timeout error, as only it knows what it waited for.
 */
export async function pollUntil<T>(check: () => T | Promise<T>, options: PollOptions): Promise<Exclude<T, undefined | false> | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const result = await check();
    if (result !== undefined && result !== false) return result as Exclude<T, undefined | false>;
    if (Date.now() >= deadline) return undefined;
    await sleep(typeof options.intervalMs === "number" ? options.intervalMs : options.intervalMs(attempt));
  }
}
