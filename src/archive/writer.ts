import { chmodSync, closeSync, constants, futimesSync, linkSync, mkdirSync, openSync, symlinkSync, unlinkSync, writeSync } from "node:fs";

/**
 * The write side of unpacking: every file system change (folders, files,
 * links, removals) in archive order, with plain synchronous calls on the
 * thread that parses. Order is kept by construction: a folder exists before
 * anything in it, a hard link follows its target, a replacement follows what
 * it replaces. Files are created with O_EXCL | O_NOFOLLOW: a name that exists
 * (or is a symbolic link) is never written through; replacements are removed
 * first. Per file: open, write, futimes, close (GNU tar as root also does
 * fchown and fchmod).
 *
 * Why synchronous, on the parsing thread (docs/benchmarks.md, benchmark 4):
 * a writer thread cost ~30 ms of CPU to start per deploy plus a copy of the
 * data and a message per batch, and the libuv thread pool one round trip per
 * call; the event loop still runs between two input chunks (at most a few
 * hundred files of work), so progress and signals wait milliseconds.
 */

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A failed file system operation, with the archive entry it was for. */
export class EntryWriteError extends Error {
  constructor(
    readonly entryName: string,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The writer for one deploy folder. Paths are relative to it, "/"-separated; `name` is the entry's, for messages. */
export class TreeWriter {
  private fd = -1;
  private fileName = "";

  constructor(private readonly root: string) {}

  mkdir(path: string, mode: number, name: string): void {
    try {
      mkdirSync(this.at(path), mode);
    } catch (error) {
      throw failed(error, name);
    }
  }

  chmod(path: string, mode: number, name: string): void {
    try {
      chmodSync(this.at(path), mode);
    } catch (error) {
      throw failed(error, name);
    }
  }

  unlink(path: string, name: string): void {
    try {
      unlinkSync(this.at(path));
    } catch (error) {
      throw failed(error, name);
    }
  }

  symlink(target: string, path: string, name: string): void {
    try {
      symlinkSync(target, this.at(path));
    } catch (error) {
      throw failed(error, name);
    }
  }

  /** Hard link `path` to the earlier regular file `existing`. */
  link(existing: string, path: string, name: string): void {
    try {
      linkSync(this.at(existing), this.at(path));
    } catch (error) {
      throw failed(error, name);
    }
  }

  /** Create a regular file; its data follows through `write`, then `closeFile`. */
  openFile(path: string, mode: number, name: string): void {
    this.fileName = name;
    try {
      this.fd = openSync(this.at(path), FLAGS, mode);
    } catch (error) {
      throw failed(error, name);
    }
  }

  write(data: Buffer): void {
    try {
      let offset = 0;
      while (offset < data.length) offset += writeSync(this.fd, data, offset, data.length - offset);
    } catch (error) {
      throw failed(error, this.fileName);
    }
  }

  /** Set the modification time (seconds; tar-reader.ts refuses a header whose time is not a number) and close the file. */
  closeFile(mtime: number): void {
    const fd = this.fd;
    this.fd = -1;
    try {
      futimesSync(fd, mtime, mtime);
    } catch (error) {
      closeQuietly(fd);
      throw failed(error, this.fileName);
    }
    try {
      closeSync(fd);
    } catch (error) {
      throw failed(error, this.fileName);
    }
  }

  /** After a failure: close a file left open. Nothing is written after this. */
  close(): void {
    if (this.fd >= 0) closeQuietly(this.fd);
    this.fd = -1;
  }

  private at(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }
}

function failed(error: unknown, name: string): EntryWriteError {
  const errno = error as NodeJS.ErrnoException;
  return new EntryWriteError(name, errno.message ?? String(error), errno.code);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing: the first error is the one reported
  }
}
