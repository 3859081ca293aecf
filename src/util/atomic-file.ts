import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isDiskFull, SargeError } from "./errors.js";

/**
 * Write a file so that a crash or a full disk at any moment leaves either the
 * old or the new content: temp file, every byte count checked, fsync, rename,
 * fsync of the folder. A failed write leaves the old file whole and no temp file.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  const temp = writeTempFile(path, content, mode);
  try {
    moveIntoPlace(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * The first half of writeFileAtomic, for a caller that checks the new file
 * before it replaces `path`: returns the temp file beside `path`, whole and
 * on disk. The caller removes it if it does not call moveIntoPlace. A file
 * that is only read, never moved into place, needs no fsync: `durable` false.
 */
export function writeTempFile(path: string, content: string, mode: number, durable = true): string {
  // dot-prefixed and .tmp-suffixed: no glob of real files (supervisord's programs/*.conf) picks it up
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const bytes = Buffer.from(content, "utf8");
  try {
    const fd = openSync(temp, "wx", mode);
    try {
      // write(2) may write less than asked (a nearly full disk): go on from there, until it fails with ENOSPC
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset) || failShort();
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    throw writeError(path, error, "it keeps its previous content");
  }
  return temp;
}

/** Rename `temp` over `path`, then fsync the folder so the rename itself survives a power cut. */
export function moveIntoPlace(temp: string, path: string): void {
  try {
    renameSync(temp, path);
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (error) {
    throw writeError(path, error, "the rename or its fsync failed");
  }
}

function failShort(): never {
  throw Object.assign(new Error("the disk accepted no more bytes"), { code: "ENOSPC" });
}

function writeError(path: string, error: unknown, outcome: string): SargeError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = isDiskFull(error) ? "the disk is full" : (error as Error).message;
  return new SargeError(`cannot write ${path}: ${why}`, {
    detail: `${code ?? "error"}: ${outcome}. Free space (or fix the cause) and run the command again.`,
    cause: error,
  });
}
