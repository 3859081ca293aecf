import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

/** Write a file so that a crash at any moment leaves either the old or the new content: temp + fsync + rename + fsync dir. */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  // dot-prefixed and .tmp-suffixed: no glob of real files (supervisord's programs/*.conf) picks it up
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temp, "w", mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
