import { describe, expect, it } from "vitest";
import { pollUntil, soonThenEvery } from "../../../src/util/poll.js";

describe("pollUntil", () => {
  it("resolves with the first value that is not undefined or false (0 and null count)", async () => {
    const answers = [undefined, false, 0];
    await expect(pollUntil(() => answers.shift(), { timeoutMs: 5_000, intervalMs: 1 })).resolves.toBe(0);
    await expect(pollUntil(async () => null, { timeoutMs: 5_000, intervalMs: 1 })).resolves.toBeNull();
  });

  it("checks at least once, and resolves undefined once the time is up", async () => {
    let calls = 0;
    const began = Date.now();
    await expect(pollUntil(() => (calls++, false), { timeoutMs: 0, intervalMs: 1_000 })).resolves.toBeUndefined();
    expect(calls).toBe(1);
    await expect(pollUntil(() => false, { timeoutMs: 60, intervalMs: 5 })).resolves.toBeUndefined();
    expect(Date.now() - began).toBeGreaterThanOrEqual(60);
  });

  it("pauses as the interval function says for each attempt", async () => {
    const attempts: number[] = [];
    const interval = (attempt: number) => (attempts.push(attempt), 1);
    let calls = 0;
    await pollUntil(() => ++calls === 4, { timeoutMs: 5_000, intervalMs: interval });
    expect(attempts).toEqual([0, 1, 2]);
  });

  it("passes on what the check throws", async () => {
    await expect(pollUntil(() => Promise.reject(new Error("broken")), { timeoutMs: 1_000, intervalMs: 1 })).rejects.toThrow("broken");
  });
});

describe("soonThenEvery", () => {
  it("pauses 5 ms for the first looks, then the slower interval", () => {
    const interval = soonThenEvery(3, 200);
    expect([0, 1, 2, 3, 50].map(interval)).toEqual([5, 5, 5, 200, 200]);
  });
});

