import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { copyFile, rename, stat, truncate } from "node:fs/promises";

export interface LogLimits {
  /** Size at which the log is rotated. */
  maxBytes: number;
  /** Rotated files kept: <log>.1 (newest) … <log>.<keep>. */
  keep: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/**
 * Rotates `file` once it reached maxBytes, by copy-then-truncate: programs
 * hold the log open with O_APPEND, so after the truncation their next write
 * lands at the start of the emptied file without reopening anything. What was
 * written while it copied is added to the copy before the truncation; a line
 * written in the microseconds between that last read and the truncation is
 * lost (logrotate's copytruncate loses all that the copy took): the price of
 * not owning the programs' file descriptors. Returns whether it rotated.
 */
export async function rotateIfFull(file: string, limits: LogLimits): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  if (size < limits.maxBytes) return false;
  for (let index = limits.keep - 1; index >= 1; index--) {
    await rename(`${file}.${index}`, `${file}.${index + 1}`).catch((error: unknown) => {
      if (!isMissing(error)) throw error;
    });
  }
  if (limits.keep > 0) {
    await copyFile(file, `${file}.1`);
    catchUpThenTruncate(file, `${file}.1`);
  } else await truncate(file, 0);
  return true;
}

/** Synchronous, so that nothing runs between the read that finds no more and the truncation. */
function catchUpThenTruncate(file: string, copy: string): void {
  const source = openSync(file, "r+");
  const target = openSync(copy, "a");
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (let at = fstatSync(target).size, read: number; (read = readSync(source, buffer, 0, buffer.length, at)) > 0; at += read) writeSync(target, buffer, 0, read);
    ftruncateSync(source, 0);
  } finally {
    closeSync(target);
    closeSync(source);
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}
