import { readFileSync } from "node:fs";

let bootId: string | undefined;

/** The kernel's id of the current boot: a pid and start time recorded under another one name nothing any more. */
export function currentBootId(): string {
  bootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  return bootId;
}

/**
 * Whether a process recorded with `recordedBootId` may still run. Records
 * written before boot ids were kept (null) count as this boot: their start
 * time still tells a reused pid.
 */
export function recordedThisBoot(recordedBootId: string | null): boolean {
  return recordedBootId === null || recordedBootId === currentBootId();
}
