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
 * lands at the start of the emptied file without reopening anything. Lines
 * written between the copy and the truncation are lost (as with logrotate's
 * copytruncate); that is the price of not owning the programs' file descriptors.
 * Returns whether it rotated.
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
  if (limits.keep > 0) await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}
