import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `check` until it returns something truthy, which it returns; fails after
 * `timeoutMs` naming what it waited for. Its own loop, not src/'s: the tests
 * (and bench/, which compiles this file) wait the same way whatever src/ does.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 30_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(intervalMs);
  }
}
