import { closeSync, openSync, readSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { instanceLogPath, type HomePaths } from "../home/paths.js";
import { tailFile } from "./log-tail.js";
import { readState } from "./state.js";
import { resolveTarget } from "./target.js";

/** The last `lines` lines of an instance's (or a process type's active instance's) output. */
export function readLogTail(paths: HomePaths, target: string, lines: number): { instance: string; text: string } {
  const instance = resolveTarget(readState(paths), target, { allowProc: true });
  return { instance: instance.id, text: tailFile(instanceLogPath(paths, instance.id), lines) };
}

/**
 * Print the tail, then everything appended, until `signal` aborts. Survives
 * rotation (the file shrinks or is replaced: what was appended before it
 * rotated is read from its copy `<log>.1`, then the new file from the start)
 * and, when following a process type, a deploy (the new instance's log from
 * its beginning) or a rollback (the reactivated instance's log from where
 * its new start began, however late this command notices the switch).
 */
export async function followLog(paths: HomePaths, target: string, lines: number, write: (text: string) => void, signal: AbortSignal): Promise<void> {
  const first = readLogTail(paths, target, lines);
  if (first.text) write(first.text + "\n");
  let instance = first.instance;
  let file = instanceLogPath(paths, instance);
  let position = sizeOf(file)?.size ?? 0;
  let inode = sizeOf(file)?.ino ?? 0;
  const followsProc = !readState(paths).instances[target];
  // an instance older than this command (a kept one a rollback made active again) is followed from its latest start, not reprinted
  const older = new Set(Object.keys(readState(paths).instances));
  while (!signal.aborted) {
    await sleep(200, undefined, { signal }).catch(() => undefined);
    if (followsProc) {
      const now = resolveTarget(readState(paths), target, { allowProc: true }).id;
      if (now !== instance) {
        write(`--- ${target} is now ${now} ---\n`);
        instance = now;
        file = instanceLogPath(paths, instance);
        position = older.has(now) ? (readState(paths).instances[now]?.logStart ?? sizeOf(file)?.size ?? 0) : 0;
        inode = sizeOf(file)?.ino ?? 0;
      }
    }
    const stat = sizeOf(file);
    if (!stat) continue;
    if (stat.ino !== inode || stat.size < position) {
      copyRotatedRest(file, position, write);
      inode = stat.ino;
      position = 0;
    }
    if (stat.size > position) position += copyRange(file, position, stat.size, write);
  }
}

/** The lines appended between the last read and the rotation are in the rotated copy, past what was read. */
function copyRotatedRest(file: string, position: number, write: (text: string) => void): void {
  const rotated = sizeOf(`${file}.1`);
  if (rotated && rotated.size > position) copyRange(`${file}.1`, position, rotated.size, write);
}

function sizeOf(file: string): { size: number; ino: number } | null {
  try {
    const { size, ino } = statSync(file);
    return { size, ino };
  } catch {
    return null;
  }
}

function copyRange(file: string, from: number, to: number, write: (text: string) => void): number {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(to - from);
    const read = readSync(fd, buffer, 0, buffer.length, from);
    write(buffer.subarray(0, read).toString("utf8"));
    return read;
  } finally {
    closeSync(fd);
  }
}
