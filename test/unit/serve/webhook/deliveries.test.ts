import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeliveryLog, deliveryMemoryMs } from "../../../../src/serve/webhook/deliveries.js";

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), "sarge-deliveries-")), "deliveries");
});
afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

describe("the delivery log", () => {
  it("claims an id once; a repeat is a duplicate naming the release it queued", () => {
    const log = new DeliveryLog(dir);
    expect(log.claim(id)).toEqual({ first: true });
    expect(log.claim(id)).toEqual({ first: false, release: null });
    log.setRelease(id, 12);
    expect(new DeliveryLog(dir).claim(id)).toEqual({ first: false, release: 12 });
  });

  it("lets exactly one of many claims of the same id win", () => {
    const logs = Array.from({ length: 8 }, () => new DeliveryLog(dir));
    const firsts = logs.map((log) => log.claim(id)).filter((claim) => claim.first);
    expect(firsts).toHaveLength(1);
  });

  it("forgets a claim whose deploy was not queued, so a redelivery deploys", () => {
    const log = new DeliveryLog(dir);
    log.claim(id);
    log.forget(id);
    expect(log.claim(id)).toEqual({ first: true });
  });

  it("prunes ids older than 7 days", () => {
    let now = Date.now();
    new DeliveryLog(dir, () => now).claim("old-delivery");
    const eightDaysAgo = (now - deliveryMemoryMs - 86_400_000) / 1000;
    utimesSync(join(dir, "old-delivery.json"), eightDaysAgo, eightDaysAgo);
    now += 1000;
    expect(new DeliveryLog(dir, () => now).claim(id)).toEqual({ first: true });
    expect(readdirSync(dir)).toEqual([`${id}.json`]);
  });

  it.each(["../state", "a/b", "", "-x", "x".repeat(129)])("refuses %j as a delivery id, creating no file", (bad) => {
    expect(() => new DeliveryLog(dir).claim(bad)).toThrow(/^not a delivery id/);
    expect(existsSync(dir)).toBe(false);
  });
});
