import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { instanceLogPath, type HomePaths } from "../home/paths.js";

/** How many logs of removed instances var/log/released/ keeps, newest first. */
export const RELEASED_LOGS_KEPT = 50;

export function releasedLogPath(paths: HomePaths, id: string): string {
  return join(paths.log, "released", `${id}.log`);
}

/** The log of an instance in state, or else of one that was removed (a failed or pruned release). */
export function instanceOrReleasedLog(paths: HomePaths, id: string, live: boolean): string {
  return live ? instanceLogPath(paths, id) : releasedLogPath(paths, id);
}

/**
 * An instance being removed keeps its current log (not the rotated copies)
 * under var/log/released/, so `sarge logs --release N` can still show why a
 * failed release failed after later deploys; the oldest beyond
 * RELEASED_LOGS_KEPT go.
 */
export function keepReleasedLog(paths: HomePaths, id: string, rotatedCopies: number): void {
  const log = instanceLogPath(paths, id);
  const kept = releasedLogPath(paths, id);
  mkdirSync(join(paths.log, "released"), { recursive: true, mode: 0o700 });
  try {
    renameSync(log, kept);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  for (let i = 1; i <= rotatedCopies; i++) rmSync(`${log}.${i}`, { force: true });
  pruneReleasedLogs(paths);
}

function pruneReleasedLogs(paths: HomePaths): void {
  const folder = join(paths.log, "released");
  const files = readdirSync(folder).map((name) => ({ path: join(folder, name), mtime: statSync(join(folder, name)).mtimeMs }));
  files.sort((a, b) => b.mtime - a.mtime);
  for (const { path } of files.slice(RELEASED_LOGS_KEPT)) rmSync(path, { force: true });
}
