import { statfsSync } from "node:fs";
import { formatBytes } from "../util/format.js";

/** Below this a file system counts as full: an app's write failed for want of space. */
const NEARLY_FULL_BYTES = 1024 * 1024;

function freeBytes(path: string): number | null {
  try {
    const space = statfsSync(path);
    return space.bavail * space.bsize;
  } catch {
    return null;
  }
}

/**
 * Called when a release fails, before its undo: when the disk holding the
 * home is full, returns a function that, after the undo, says so and how much
 * removing the new instances freed — a full disk otherwise shows only as the
 * app's own "No space left on device" somewhere in its output.
 */
export function fullDiskNote(home: string): (() => string) | null {
  const before = freeBytes(home);
  if (before === null || before >= NEARLY_FULL_BYTES) return null;
  return () => {
    const after = freeBytes(home) ?? before;
    return (
      `the disk holding ${home} was full when the release failed (${formatBytes(before)} free); the running version keeps serving` +
      (after > before ? `, and removing the new instances freed ${formatBytes(after - before)}` : "; nothing was freed: make room before the next deploy")
    );
  };
}
