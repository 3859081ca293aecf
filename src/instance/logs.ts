import { setTimeout as sleep } from "node:timers/promises";
import { instanceLogPath, type HomePaths } from "../home/paths.js";
import { LogCursor } from "./log-cursor.js";
import { tailFile } from "./log-tail.js";
import { readState } from "./state.js";
import { resolveTarget } from "./target.js";
import { fileSize } from "../util/file-bytes.js";

/** The last `lines` lines of an instance's (or a process type's active instance's) output. */
export function readLogTail(paths: HomePaths, target: string, lines: number): { instance: string; text: string } {
  const instance = resolveTarget(readState(paths), target, { allowProc: true });
  return { instance: instance.id, text: tailFile(instanceLogPath(paths, instance.id), lines) };
}

/**
 * Print the tail, then everything appended, until `signal` aborts. Survives
 * rotation (src/instance/log-cursor.ts) and, when following a process type, a
 * deploy (the new instance's log from its beginning) or a rollback (the
 * reactivated instance's log from where its new start began, however late
 * this command notices the switch).
 */
export async function followLog(paths: HomePaths, target: string, lines: number, write: (text: string) => void, signal: AbortSignal): Promise<void> {
  const first = readLogTail(paths, target, lines);
  if (first.text) write(first.text + "\n");
  let instance = first.instance;
  const log = instanceLogPath(paths, instance);
  let cursor = new LogCursor(log, fileSize(log));
  const followsProc = !readState(paths).instances[target];
  // an instance older than this command (a kept one a rollback made active again) is followed from its latest start, not reprinted
  const older = new Set(Object.keys(readState(paths).instances));
  while (!signal.aborted) {
    await sleep(200, undefined, { signal }).catch(() => undefined);
    if (followsProc) {
      const now = resolveTarget(readState(paths), target, { allowProc: true }).id;
      if (now !== instance) {
        write(cursor.read());
        write(`--- ${target} is now ${now} ---\n`);
        instance = now;
        const file = instanceLogPath(paths, instance);
        cursor = new LogCursor(file, older.has(now) ? (readState(paths).instances[now]?.logStart ?? fileSize(file)) : 0);
      }
    }
    const text = cursor.read();
    if (text) write(text);
  }
}
