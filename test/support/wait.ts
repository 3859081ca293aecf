import { pollUntil } from "../../src/util/poll.js";

/**
 * Polls `check` until it returns something truthy, which it returns; fails after
 * `timeoutMs` naming what it waited for (src's pollUntil, with the tests' own
 * timeout error and truthiness: a null or "" from `check` means not yet).
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 30_000, intervalMs = 20): Promise<NonNullable<T>> {
  const value = await pollUntil(async () => (await check()) || undefined, { timeoutMs, intervalMs });
  if (value === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
  return value as NonNullable<T>;
}
